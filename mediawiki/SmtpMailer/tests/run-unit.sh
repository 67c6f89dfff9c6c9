#!/usr/bin/env bash
# SmtpMailer's unit tests (tests/phpunit/unit) without a wiki: Debian's phpunit (9.6 on Debian 12,
# 11.5 on Debian 13) with tests/phpunit/standalone/bootstrap.php, which loads the extension's
# classes and doubles of the few MediaWiki classes they use. Inside a MediaWiki installation, MediaWiki's own test runner
# runs the same tests instead.
#
# Installs phpunit with apt when it is missing (as root or via sudo; scripts/setup.sh installs
# it for make test). PHP=<binary> picks the PHP (make test sets it to the PHP under test).
# PHP_SMTP_EXT=<path to libsmtp.so> also loads the smtp PHP extension, so that the tests use its
# exception classes instead of the stand-ins (the extension's ones cannot be constructed from
# PHP; the tests make them without their constructor).
#
# Last line: "smtpmailer-unit: N passed, M failed" (", K skipped" when some were skipped).
# Exit status non-zero if anything failed.
# shellcheck disable=SC2016  # PHP code in single quotes: $ is PHP's, not the shell's
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d -t smtpmailer-unit.XXXXXX)
trap 'rm -rf "$work"' EXIT

result() {
    echo "smtpmailer-unit: $1 passed, $2 failed$( (($3)) && echo ", $3 skipped")"
    (($2 == 0))
    exit
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        return 1
    fi
}

if ! command -v phpunit >/dev/null 2>&1; then
    echo "installing phpunit (Debian's package)"
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
            --no-install-recommends phpunit; } >"$work/apt.log" 2>&1; then
        tail -n 20 "$work/apt.log"
        echo "FAIL apt-get install phpunit (needs root or sudo)"
        result 0 1 0
    fi
fi
phpunit=$(command -v phpunit)

php=("${PHP:-php}")
if [[ -n ${PHP_SMTP_EXT:-} ]] && ! "${php[0]}" -r 'exit(extension_loaded("smtp") ? 0 : 1);'; then
    php+=(-d "extension=$PHP_SMTP_EXT")
fi
echo "$("${php[@]}" "$phpunit" --version | grep -o -m1 "PHPUnit [0-9.]*")" \
    "on PHP $("${php[@]}" -r 'echo PHP_VERSION;')," \
    "smtp extension $("${php[@]}" -r 'echo extension_loaded("smtp") ? "loaded" : "not loaded";')"

"${php[@]}" "$phpunit" --bootstrap "$here/phpunit/standalone/bootstrap.php" \
    --do-not-cache-result --colors=never --log-junit "$work/junit.xml" \
    "$here/phpunit/unit"
status=$?

if [[ ! -s $work/junit.xml ]]; then
    echo "FAIL phpunit wrote no results (exit status $status)"
    result 0 1 0
fi
# The top <testsuite> holds the totals.
read -r tests failures errors skipped < <("${php[0]}" -r '
    $s = simplexml_load_file($argv[1])->testsuite;
    printf("%d %d %d %d\n", $s["tests"], $s["failures"], $s["errors"], $s["skipped"]);
' "$work/junit.xml")
failed=$((failures + errors))
if ((status != 0 && failed == 0)); then
    echo "FAIL phpunit exited with status $status"
    failed=1
fi
result $((tests - failures - errors - skipped)) "$failed" "$skipped"
