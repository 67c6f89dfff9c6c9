#!/usr/bin/env bash
# The whole check, on every platform users run, and the Debian packages.
#
#   scripts/test.sh                 all parts (what `make test` and CI run)
#   scripts/test.sh PART...         only these parts:
#     local      the suite on this machine with its PHP (Debian 12: PHP 8.2)
#     debian12   the suite on Debian 12 / PHP 8.2 / MediaWiki 1.39
#     debian13   the suite on Debian 13 / PHP 8.4 / MediaWiki 1.43
#                (here when this machine is that release, else in a cached Debian root made
#                with mmdebstrap: scripts/root.sh)
#     php85      the suite on sid + experimental / PHP 8.5 / MediaWiki 1.43
#     php86      PHP 8.6 RC (experimental): the release build and the phpt suite
#                (both in the cached sid root, scripts/root.sh sid)
#     deb        build the packages (scripts/deb.sh) and test them (tests/deb/run.sh)
#     zts        thread-safe PHP: a ZTS PHP built from Debian's source (scripts/zts.sh, cached),
#                the extension for it, the phpt suite on its CLI and the threaded embed host
#                (tests/zts/run.sh)
#     dist       the ready-built archives for PIE and Docker (scripts/dist.sh, reusing the
#                builds above) installed and used in fresh roots (tests/dist/run.sh)
#   All parts = local, then the other of debian12/debian13, php85, php86, deb, zts and dist.
#
# First setup (scripts/setup.sh), then each part. The suite: shellcheck, formatting, clippy
# (with and without the PHP binding), the Rust tests, the release build, the phpt suite against
# that build, and the integration scripts (MediaWiki, FPM). Every step runs even if an earlier one failed, so one run reports
# everything; only the steps that need the release build are skipped when it fails.
#
# Each part ends with its own line naming its platform ("debian12/php8.2: N passed, M failed",
# "deb: ..."), and the last line is always "N passed, M failed" over all parts, which CI reads.
# N and M count tests (cargo test + phpt + integration scripts + package tests); a failed step
# with no failing test of its own (fmt, clippy, a build, a root that cannot be made, a runner
# error) counts as one failure. Exit status is non-zero if anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh
php_env_cargo_path

here=$(php_env_distro)
parts=("$@")
if ((${#parts[@]} == 0)); then
    other=debian13
    [[ $here != debian13 ]] || other=debian12
    parts=(local "$other" php85 php86 deb zts dist)
fi
for p in "${parts[@]}"; do
    case $p in
        local | debian12 | debian13 | php85 | php86 | deb | zts | dist) ;;
        *) echo "unknown part '$p' (local, debian12, debian13, php85, php86, deb, zts, dist)" >&2; exit 2 ;;
    esac
done

CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
EXT=$CARGO_TARGET_DIR/release/libsmtp.so
# The integration scripts may use these rather than recompute them.
export CARGO_TARGET_DIR PHP_SMTP_EXT=$EXT PHP_SMTP_ROOT=$root

passed=0
failed=0
failed_steps=()
part_lines=()
part_times=()

work=$(mktemp -d -t php-smtp-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The summary lines, printed last whatever happens.
summary() {
    local l
    echo
    [[ -z ${PHP_SMTP_IN_ROOT:-} ]] || echo "(summary of the run in the $PHP_SMTP_IN_ROOT root)"
    for l in "${part_times[@]}"; do echo "$l"; done
    for l in "${part_lines[@]}"; do echo "$l"; done
    if ((${#failed_steps[@]})); then
        echo "php-smtp: FAILED steps: ${failed_steps[*]}"
    else
        echo "php-smtp: all steps passed"
    fi
    echo "$passed passed, $failed failed"
}

step() { printf '\n==> %s\n' "$*"; }

# step_failed NAME FAILED_TESTS: record a failed step; count it as one failure unless it
# already reported failing tests.
step_failed() {
    failed_steps+=("$1")
    if (($2 == 0)); then
        failed=$((failed + 1))
    fi
}

# counts_of LOG: "N M" from a last line "[name: ]N passed, M failed[, K skipped]", or nothing.
counts_of() {
    tail -n 1 "$1" | sed -n 's/^\([A-Za-z0-9_./-]*: \)\?\([0-9]\+\) passed, \([0-9]\+\) failed\(, [0-9]\+ skipped\)\?$/\2 \3/p'
}

# cargo_counts LOG: "P F" summed over cargo's "test result: ok. 12 passed; 0 failed; ..."
# lines (one per test binary and for the doc-tests).
cargo_counts() {
    awk '
        /^test result:/ {
            for (i = 1; i <= NF; i++) {
                if ($(i) ~ /^passed;?$/) p += $(i - 1)
                if ($(i) ~ /^failed;?$/) f += $(i - 1)
            }
        }
        END { print p + 0, f + 0 }' "$1"
}

# run_counted NAME LOG COMMAND...: run a script that ends with its own "N passed, M failed"
# line and add its counts (no such line: the script counts as one test, passed if it exited 0).
run_counted() {
    local name=$1 log=$2 rc=0 counts p f
    shift 2
    "$@" 2>&1 | tee "$log" || rc=$?
    counts=$(counts_of "$log")
    if [[ -n $counts ]]; then
        read -r p f <<<"$counts"
    elif ((rc == 0)); then
        p=1 f=0
    else
        p=0 f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if ((rc != 0 || f > 0)); then
        step_failed "$name" "$f"
    fi
}

# phpt_suite BUILT: the phpt suite against $EXT (BUILT 0: the release build failed, skip).
phpt_suite() {
    # The phpt suite. -n: the test PHP loads no php.ini, so Debian's conf.d (and an smtp.ini
    # installed by `make install` or the package, which would load a second copy of the
    # extension) cannot leak in; the only extension added is the one just built. -p: the PHP
    # under test. -q: no prompts; -w: the failed tests' list.
    local built=$1 rc runner_help t
    step "phpt suite (php-tests/)"
    if ((!built)); then
        echo "skipped: no release build (already counted as a failure)"
    elif [[ -z $(find php-tests -name '*.phpt' -print -quit 2>/dev/null) ]]; then
        echo "no .phpt files in php-tests/"
        step_failed phpt 0
    elif [[ ! -f $PHP_RUN_TESTS ]]; then
        echo "$PHP_RUN_TESTS not found (php$PHP_VERSION-dev)"
        step_failed phpt 0
    else
        local phpt_args=(-q --no-color --no-progress -n -p "$PHP" -d "extension=$EXT"
            -w "$work/phpt-failed.txt")
        # Parallel workers (-j) exist since PHP 8.0's run-tests.php; keep the check for older ones.
        # (Captured first: grep -q closing the pipe early would fail the pipeline under pipefail.)
        runner_help=$("$PHP" "$PHP_RUN_TESTS" --help 2>&1 || true)
        if [[ $runner_help == *'-j<workers>'* ]]; then
            phpt_args+=("-j${PHPT_JOBS:-2}")
        fi
        rc=0
        "$PHP" "$PHP_RUN_TESTS" "${phpt_args[@]}" php-tests/ 2>&1 | tee "$work/phpt.log" || rc=$?
        local phpt_passed phpt_failed phpt_borked
        phpt_passed=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$work/phpt.log" | tail -1)
        phpt_failed=$(sed -n 's/^Tests failed *: *\([0-9]*\).*/\1/p' "$work/phpt.log" | tail -1)
        phpt_borked=$(sed -n 's/^Tests borked *: *\([0-9]*\).*/\1/p' "$work/phpt.log" | tail -1)
        phpt_failed=$((${phpt_failed:-0} + ${phpt_borked:-0}))
        passed=$((passed + ${phpt_passed:-0}))
        failed=$((failed + phpt_failed))
        if ((rc != 0)); then
            # Show why each failed test failed: the diff of expected against actual output.
            if [[ -s $work/phpt-failed.txt ]]; then
                while IFS= read -r t; do
                    [[ -n $t ]] || continue
                    local d=${t%.phpt}.diff
                    if [[ -f $d ]]; then
                        printf '\n--- %s (expected vs actual) ---\n' "$d"
                        cat "$d"
                        echo
                    fi
                done <"$work/phpt-failed.txt"
            fi
            step_failed phpt "$phpt_failed"
        fi
    fi
}

# resolve_php: the PHP under test (php_env_resolve), named in the log; a failure is the part's.
resolve_php() {
    if ! php_env_resolve; then
        step_failed php-env 0
        return 1
    fi
    echo "PHP $("$PHP" -n -r 'echo PHP_VERSION;') ($PHP, $PHP_CONFIG), $PHP_PLATFORM, target $CARGO_TARGET_DIR"
}

# release_build: cargo build --release; fails (recorded) when it fails or leaves no $EXT.
release_build() {
    step "cargo build --release"
    cargo build --release || { step_failed build 0; return 1; }
    if [[ ! -f $EXT ]]; then
        echo "cargo build succeeded but $EXT is missing"
        step_failed build 0
        return 1
    fi
}

# The suite on this machine, against $PHP.
suite() {
    local rc built t name runner_help

    resolve_php || return 0

    step "shellcheck"
    local scripts=()
    mapfile -t scripts < <(find scripts tests packaging -name '*.sh' -type f 2>/dev/null | sort)
    scripts+=(.ci/run)
    shellcheck -x "${scripts[@]}" || step_failed shellcheck 0

    step "cargo fmt --check"
    cargo fmt --check || step_failed fmt 0

    step "cargo clippy --all-targets -- -D warnings"
    cargo clippy --all-targets -- -D warnings || step_failed clippy 0

    step "cargo clippy --no-default-features --all-targets -- -D warnings"
    cargo clippy --no-default-features --all-targets -- -D warnings || step_failed clippy-no-php 0

    # Without the "php" feature: a test executable cannot resolve the PHP symbols it links to.
    # --no-fail-fast: run every test binary (and the doc-tests) so the counts are complete.
    # The reference-chain harness needs the release build: it skips here and runs after it.
    step "cargo test --no-default-features --no-fail-fast"
    rc=0
    PHP_SMTP_REFERENCE=later cargo test --no-default-features --no-fail-fast 2>&1 |
        tee "$work/cargo-test.log" || rc=$?
    local cargo_passed cargo_failed
    read -r cargo_passed cargo_failed < <(cargo_counts "$work/cargo-test.log")
    passed=$((passed + cargo_passed))
    failed=$((failed + cargo_failed))
    echo "cargo test: $cargo_passed passed, $cargo_failed failed"
    ((rc == 0)) || step_failed cargo-test "$cargo_failed"

    built=1
    release_build || built=0

    # PHP's own mail() through a private Postfix against the extension on generated input
    # (tests/reference/README.md); one test per case in the counts.
    step "reference chain (cargo test --no-default-features --test reference)"
    if ((!built)); then
        echo "skipped: no release build (already counted as a failure)"
    else
        rc=0
        cargo test --no-default-features --test reference 2>&1 | tee "$work/reference.log" || rc=$?
        local ref_passed ref_failed
        read -r ref_passed ref_failed < <(cargo_counts "$work/reference.log")
        passed=$((passed + ref_passed))
        failed=$((failed + ref_failed))
        ((rc == 0)) || step_failed reference "$ref_failed"
        # PHP 8.5+: PHP's own mail() again in each other mail.cr_lf_mode (crlf is the default).
        if "$PHP" -n -r 'exit(PHP_VERSION_ID >= 80500 ? 0 : 1);'; then
            local mode
            for mode in lf mixed os; do
                step "reference chain with mail.cr_lf_mode=$mode"
                rc=0
                REFERENCE_PHP_INI=mail.cr_lf_mode=$mode cargo test --no-default-features --test reference \
                    2>&1 | tee "$work/reference-$mode.log" || rc=$?
                read -r ref_passed ref_failed < <(cargo_counts "$work/reference-$mode.log")
                passed=$((passed + ref_passed))
                failed=$((failed + ref_failed))
                ((rc == 0)) || step_failed "reference-$mode" "$ref_failed"
            done
        fi
    fi

    phpt_suite "$built"

    # Integration scripts: if one ends with its own "N passed, M failed" line (optionally
    # prefixed by "name: "), count those tests; otherwise the script counts as one test.
    # SmtpMailer's unit tests use the extension's exception classes (PHP_SMTP_EXT).
    for t in tests/mediawiki/run.sh tests/fpm/run.sh tests/fpm/slots.sh tests/fpm/oauth.sh \
        tests/fpm/policy.sh tests/fpm/rate.sh tests/fpm/oauth_delegated.sh \
        mediawiki/SmtpMailer/tests/run-unit.sh; do
        name=${t%.sh}
        name=${name#tests/}
        name=${name//\//-}
        step "$t"
        if [[ ! -f $t ]]; then
            echo "skipped: $t not present"
            continue
        fi
        if ((!built)); then
            echo "skipped: no release build (already counted as a failure)"
            continue
        fi
        run_counted "$name" "$work/$name.log" bash "$t"
    done
}

# part NAME COMMAND...: run one part, then record its line "NAME: N passed, M failed" and its time.
part() {
    local name=$1 p0=$passed f0=$failed t0=$SECONDS line
    shift
    "$@"
    line="$name: $((passed - p0)) passed, $((failed - f0)) failed"
    part_lines+=("$line")
    part_times+=("$name: took $((SECONDS - t0)) s")
    printf '\n%s (%d s)\n' "$line" "$((SECONDS - t0))"
}

# suite_in_root DIST [PART]: PART (default DIST) of another Debian release, in its root. Its
# last line carries the counts.
suite_in_root() {
    local dist=$1 what=${2:-$1} log=$work/${2:-$1}.log
    step "$what: in the $dist root (scripts/root.sh $dist scripts/test.sh $what)"
    run_counted "$what" "$log" scripts/root.sh "$dist" scripts/test.sh "$what"
    if [[ -z $(counts_of "$log") ]]; then
        echo "$what: FAILED: the suite did not run in the $dist root (see above)"
    fi
}

# use_php VERSION: test that PHP from now on (the sid root has two): its own build directory
# (target/sid-php8.5 in that root, scripts/root.sh) and no PHP or PHP_CONFIG of another part.
use_php() {
    unset PHP PHP_CONFIG
    PHP_VERSION=$1
    if [[ -n ${PHP_SMTP_TARGET_PREFIX:-} ]]; then
        CARGO_TARGET_DIR=$PHP_SMTP_TARGET_PREFIX$1
    fi
    EXT=$CARGO_TARGET_DIR/release/libsmtp.so
    export PHP_VERSION CARGO_TARGET_DIR PHP_SMTP_EXT=$EXT
}

# PHP 8.6 RC: does the extension build against it, and does the phpt suite pass.
suite_build_phpt() {
    local built=1
    resolve_php || return 0
    release_build || built=0
    phpt_suite "$built"
}

packages() {
    step "make deb (scripts/deb.sh)"
    if ! scripts/deb.sh; then
        step_failed deb-build 0
    fi
    step "package tests (tests/deb/run.sh)"
    run_counted deb-tests "$work/deb.log" tests/deb/run.sh
}

archives() {
    step "make dist (scripts/dist.sh)"
    if ! scripts/dist.sh; then
        step_failed dist-build 0
    fi
    step "archive tests (tests/dist/run.sh)"
    run_counted dist-tests "$work/dist.log" tests/dist/run.sh
}

# Setup must succeed: nothing else can run without it (it also installs what the root parts
# and the package tests use: mmdebstrap, lintian, cgi-fcgi).
step "setup"
if ! scripts/setup.sh; then
    failed_steps+=(setup)
    failed=$((failed + 1))
    summary
    exit 1
fi

for p in "${parts[@]}"; do
    case $p in
        deb)
            part deb packages
            ;;
        zts)
            part zts run_counted zts "$work/zts.log" tests/zts/run.sh
            ;;
        dist)
            part dist archives
            ;;
        local)
            php_env_version
            part "$here/php$PHP_VERSION" suite
            ;;
        php85 | php86)
            v=${p#php}
            v=${v:0:1}.${v:1}
            if [[ $here == sid ]]; then
                use_php "$v"
                if [[ $p == php85 ]]; then
                    part "sid/php$v" suite
                else
                    part "sid/php$v" suite_build_phpt
                fi
            else
                part "sid/php$v" suite_in_root sid "$p"
            fi
            ;;
        *)
            if [[ $p == "$here" ]]; then
                php_env_version
                part "$here/php$PHP_VERSION" suite
            else
                part "$p/php$(php_env_debian_php "${p#debian}")" suite_in_root "$p"
            fi
            ;;
    esac
done

summary
((${#failed_steps[@]} == 0 && failed == 0))
