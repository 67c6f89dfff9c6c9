#!/usr/bin/env bash
# Thread-safe PHP: the extension built for a ZTS PHP (scripts/zts.sh: Debian's PHP source with
# --enable-zts --enable-embed, cached), the phpt suite on that PHP's CLI, and the threaded host
# (host.c: THREADS embedded PHP threads in FrankenPHP's worker mode sending to the fault server,
# checked by check.py). Last line: "zts: N passed, M failed" (phpt tests + host checks; a
# step that fails with no test of its own counts as one failure).
#
#   tests/zts/run.sh            ZTS_THREADS (default 8), ZTS_REQUESTS (6), ZTS_MAILS (5)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD
passed=0
failed=0
finish() { echo "zts: $passed passed, $failed failed"; }
trap finish EXIT
fail_step() { echo "zts: FAILED: $*"; failed=$((failed + 1)); exit 1; }

threads=${ZTS_THREADS:-8}
requests=${ZTS_REQUESTS:-6}
mails=${ZTS_MAILS:-5}
idle_at=$((requests / 2))

echo "==> ZTS PHP (scripts/zts.sh build)"
t0=$SECONDS
scripts/zts.sh build || fail_step "cannot build the ZTS PHP"
prefix=$(scripts/zts.sh path)
echo "ZTS PHP: $("$prefix/bin/php" -n -r 'echo PHP_VERSION, PHP_ZTS ? " ZTS" : " NTS";') in $prefix ($((SECONDS - t0)) s)"

echo "==> the extension for it (CARGO_TARGET_DIR=target/zts)"
scripts/zts.sh run cargo build --release || fail_step "cargo build --release against the ZTS PHP"
ext=$repo/target/zts/release/libsmtp.so
"$prefix/bin/php" -n -d "extension=$ext" -r 'exit(extension_loaded("smtp") && PHP_ZTS ? 0 : 1);' \
    || fail_step "$ext does not load into the ZTS PHP"

work=$(mktemp -d -t php-smtp-zts.XXXXXX)
server_pid=
cleanup() {
    [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
    finish
}
trap cleanup EXIT

echo "==> phpt suite on the ZTS CLI"
# Debian's patches put it under the API's directory (lib/php/<api>/build/).
runner=$(find "$prefix/lib" -path '*/build/run-tests.php' -print -quit)
[[ -n $runner ]] || fail_step "no run-tests.php in $prefix"
rc=0
"$prefix/bin/php" "$runner" -q --no-color --no-progress -n -p "$prefix/bin/php" -d "extension=$ext" \
    "-j${PHPT_JOBS:-2}" -w "$work/phpt-failed.txt" php-tests/ 2>&1 | tee "$work/phpt.log" || rc=$?
p=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$work/phpt.log" | tail -1)
f=$(sed -n 's/^Tests failed *: *\([0-9]*\).*/\1/p' "$work/phpt.log" | tail -1)
b=$(sed -n 's/^Tests borked *: *\([0-9]*\).*/\1/p' "$work/phpt.log" | tail -1)
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0} + ${b:-0}))
if ((rc != 0)); then
    while IFS= read -r t; do
        [[ -n $t && -f ${t%.phpt}.diff ]] && { printf '\n--- %s ---\n' "${t%.phpt}.diff"; cat "${t%.phpt}.diff"; }
    done <"$work/phpt-failed.txt"
    ((${f:-0} + ${b:-0} > 0)) || failed=$((failed + 1))
fi

echo "==> threaded host: $threads threads x $requests requests x $mails mails, worker mode"
read -ra includes < <("$prefix/bin/php-config" --includes)
libdir=$(dirname "$(find "$prefix/lib" -name libphp.so -print -quit)")
cc -O1 -g -Wall -o "$work/host" tests/zts/host.c "${includes[@]}" \
    -L"$libdir" -lphp -Wl,-rpath,"$libdir" -pthread || fail_step "cannot build tests/zts/host.c"
mkdir -p "$work/record" "$work/out"
python3 tests/servers/fault_smtp.py --record "$work/record" --lifetime 600 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
    port=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$work/server.out")
    [[ -z $port ]] || break
    sleep 0.1
done
[[ -n $port ]] || fail_step "the fault server did not start: $(cat "$work/server.err")"
# Idle limit 1 s; each thread then waits 4 s in its loop (generous: the check is that the
# connection was closed before the thread sent again, not when).
cat >"$work/php.ini" <<INI
extension=$ext
smtp.host=127.0.0.1
smtp.port=$port
smtp.timeout=10
smtp.pool=1
smtp.pool_idle_timeout=1
smtp.pool_max_messages=1000
display_errors=stderr
INI
rc=0
PHPRC=$work/php.ini ZTS_OUT=$work/out ZTS_MAILS=$mails ZTS_IDLE_AT=$idle_at \
    ZTS_TRANSCRIPT=$work/record/transcript.log \
    timeout 300 "$work/host" "$repo/tests/zts/request.php" "$threads" "$requests" "$idle_at" 4000 \
    >"$work/host.out" 2>"$work/host.err" || rc=$?
cat "$work/host.out" "$work/host.err"
if ((rc == 0)) && ! grep -qiE 'leak|segfault|fatal|warning' "$work/host.out" "$work/host.err"; then
    echo "ok   the host and its $threads threads ended cleanly (exit 0, nothing on stderr about leaks or errors)"
    passed=$((passed + 1))
else
    echo "FAIL the host exited with $rc or reported errors"
    failed=$((failed + 1))
fi
# The threads' last QUITs are in the transcript once the server has read them.
sleep 0.5
rc=0
python3 tests/zts/check.py "$work/record" "$work/out" "$threads" "$requests" "$mails" "$idle_at" \
    | tee "$work/check.log" || rc=$?
passed=$((passed + $(grep -c '^ok ' "$work/check.log" || true)))
failed=$((failed + $(grep -c '^FAIL ' "$work/check.log" || true)))
((rc == 0)) || [[ $(grep -c '^FAIL ' "$work/check.log" || true) -gt 0 ]] || failed=$((failed + 1))
