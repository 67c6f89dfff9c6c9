#!/usr/bin/env bash
# The whole check: formatting, clippy (with and without the PHP binding), the Rust test suite,
# the release build, the phpt suite against the freshly built extension, and the MediaWiki and
# FPM integration tests when present.
#
# Every step runs even if an earlier one failed, so one run reports everything; only the steps
# that need the release build are skipped when it fails.
#
# The last line is always "N passed, M failed", which CI reads. N and M count tests (cargo test
# + phpt + integration scripts); a failed step with no failing test of its own (fmt, clippy, a
# build, a runner error) counts as one failure. Exit status is non-zero if anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

if [[ -d "${HOME:-/root}/.cargo/bin" ]]; then
    PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi

RUN_TESTS=/usr/lib/php/20220829/build/run-tests.php
EXT=$root/target/release/libsmtp.so
# The integration scripts may use these rather than recompute them.
export PHP_SMTP_EXT=$EXT PHP_SMTP_ROOT=$root

passed=0
failed=0
failed_steps=()

work=$(mktemp -d -t php-smtp-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The summary line, printed last whatever happens.
summary() {
    echo
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

# Setup must succeed: nothing else can run without it.
step "setup"
if ! scripts/setup.sh; then
    failed_steps+=(setup)
    failed=$((failed + 1))
    summary
    exit 1
fi

step "cargo fmt --check"
cargo fmt --check || step_failed fmt 0

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings || step_failed clippy 0

step "cargo clippy --no-default-features --all-targets -- -D warnings"
cargo clippy --no-default-features --all-targets -- -D warnings || step_failed clippy-no-php 0

# Without the "php" feature: a test executable cannot resolve the PHP symbols it links to.
# --no-fail-fast: run every test binary (and the doc-tests) so the counts are complete.
step "cargo test --no-default-features --no-fail-fast"
rc=0
cargo test --no-default-features --no-fail-fast 2>&1 | tee "$work/cargo-test.log" || rc=$?
# One "test result: ok. 12 passed; 0 failed; ..." line per test binary and for the doc-tests.
read -r cargo_passed cargo_failed < <(awk '
    /^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i) ~ /^passed;?$/) p += $(i - 1)
            if ($(i) ~ /^failed;?$/) f += $(i - 1)
        }
    }
    END { print p + 0, f + 0 }' "$work/cargo-test.log")
passed=$((passed + cargo_passed))
failed=$((failed + cargo_failed))
echo "cargo test: $cargo_passed passed, $cargo_failed failed"
((rc == 0)) || step_failed cargo-test "$cargo_failed"

step "cargo build --release"
built=1
cargo build --release || { step_failed build 0; built=0; }
if ((built)) && [[ ! -f $EXT ]]; then
    echo "cargo build succeeded but $EXT is missing"
    step_failed build 0
    built=0
fi

# The phpt suite. -n: the test PHP loads no php.ini, so Debian's conf.d (and an smtp.ini
# installed by `make install`, which would load a second copy of the extension) cannot leak in;
# the only extension added is the one just built. -q: no prompts; -w: the failed tests' list.
step "phpt suite (php-tests/)"
if ((!built)); then
    echo "skipped: no release build (already counted as a failure)"
elif [[ -z $(find php-tests -name '*.phpt' -print -quit 2>/dev/null) ]]; then
    echo "no .phpt files in php-tests/"
    step_failed phpt 0
else
    phpt_args=(-q --no-color --no-progress -n -d "extension=$EXT" -w "$work/phpt-failed.txt")
    # Parallel workers (-j) exist since PHP 8.0's run-tests.php; keep the check for older ones.
    # (Captured first: grep -q closing the pipe early would fail the pipeline under pipefail.)
    runner_help=$(php "$RUN_TESTS" --help 2>&1 || true)
    if [[ $runner_help == *'-j<workers>'* ]]; then
        phpt_args+=("-j${PHPT_JOBS:-2}")
    fi
    rc=0
    php "$RUN_TESTS" "${phpt_args[@]}" php-tests/ 2>&1 | tee "$work/phpt.log" || rc=$?
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
                d=${t%.phpt}.diff
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

# Integration scripts: if one ends with its own "N passed, M failed" line (optionally prefixed
# by "name: "), count those tests; otherwise the script counts as one test.
for t in tests/mediawiki/run.sh tests/fpm/run.sh; do
    name=$(basename "$(dirname "$t")")
    step "$t"
    if [[ ! -f $t ]]; then
        echo "skipped: $t not present"
        continue
    fi
    if ((!built)); then
        echo "skipped: no release build (already counted as a failure)"
        continue
    fi
    rc=0
    bash "$t" 2>&1 | tee "$work/$name.log" || rc=$?
    counts=$(tail -n 1 "$work/$name.log" \
        | sed -n 's/^\([A-Za-z0-9_.-]*: \)\?\([0-9]\+\) passed, \([0-9]\+\) failed$/\2 \3/p')
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
done

summary
((${#failed_steps[@]} == 0 && failed == 0))
