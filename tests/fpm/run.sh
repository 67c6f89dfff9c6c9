#!/usr/bin/env bash
# Connection reuse under real PHP-FPM: 2 static workers, many requests through FastCGI.
# The SMTP server must see at most one connection per worker and every mail exactly once.
# Prints "N passed, M failed" like the other suites.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
# The PHP under test (PHP_VERSION / PHP_CONFIG, default the distribution's) and its php-fpm.
# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh
php_env_resolve || exit 1
ext=${PHP_SMTP_EXT:-${CARGO_TARGET_DIR:-$root/target}/release/libsmtp.so}
requests=${FPM_REQUESTS:-60}
fpm=$PHP_FPM
if [[ ! -x $fpm ]]; then
    echo "FAIL $fpm not found (install php$PHP_VERSION-fpm: scripts/setup.sh)"
    echo "fpm: 0 passed, 1 failed"
    exit 1
fi

work=$(mktemp -d -t php-smtp-fpm.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 120 >"$work/smtp.out" &
pids+=($!)
for _ in $(seq 50); do grep -q READY "$work/smtp.out" 2>/dev/null && break; sleep 0.1; done
smtp_port=$(awk '/READY/ {print $2}' "$work/smtp.out")

fpm_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/fpm.conf" <<CONF
[global]
error_log = $work/fpm.log
daemonize = no
[smtp]
listen = 127.0.0.1:$fpm_port
pm = static
pm.max_children = 2
catch_workers_output = yes

php_admin_value[smtp.host] = 127.0.0.1
php_admin_value[smtp.port] = $smtp_port
php_admin_value[smtp.override_mail] = 1
php_admin_value[smtp.timeout] = 5
CONF
# Run as whoever we are (root in CI: -R allows it).
"$fpm" -n -d "extension=$ext" -y "$work/fpm.conf" -R -F &
pids+=($!)
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$fpm_port),0.2)" 2>/dev/null && break
    sleep 0.1
done

passed=0 failed=0
check() { # check NAME TEST-ARGS...: one test, passed when `test TEST-ARGS...` is true
    local name=$1
    shift
    if test "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}

: >"$work/responses"
for i in $(seq "$requests"); do
    SCRIPT_FILENAME=$root/tests/fpm/send.php REQUEST_METHOD=GET QUERY_STRING="$i" \
        cgi-fcgi -bind -connect "127.0.0.1:$fpm_port" 2>&1 | tee -a "$work/raw" | tr -d '\r' | grep '^{' >>"$work/responses" || true
done

oks=$(grep -c '"ok":true' "$work/responses" || true)
check "all $requests mail() calls returned true ($oks)" "$oks" -eq "$requests"

workers=$(grep -o '"pid":[0-9]*' "$work/responses" | sort -u | wc -l)
check "requests were served by 2 workers ($workers)" "$workers" -eq 2

count() { find "$work/rec" -name "*.$1" 2>/dev/null | wc -l; }
# Wait for the server to record everything, then count.
for _ in $(seq 50); do
    [[ $(count json) -ge $requests ]] && break
    sleep 0.1
done
received=$(count eml)
check "the server received $requests messages ($received)" "$received" -eq "$requests"

unique=$(cat "$work/rec"/*.eml 2>/dev/null | grep -a '^Subject: ' | sort -u | wc -l || true)
check "every request's mail arrived exactly once ($unique distinct)" "$unique" -eq "$requests"

opened=$(grep -c ' OPEN$' "$work/rec/transcript.log" || true)
check "at most one SMTP connection per worker ($opened)" "$((opened >= 1 && opened <= 2))" -eq 1

reused=$(tail -n 2 "$work/responses" | grep -o '"reused":[0-9]*' | awk -F: '{ n += $2 } END { print n + 0 }')
check "the workers report reused connections" "${reused:-0}" -gt 0

if ((failed)); then
    echo "--- fpm log"; cat "$work/fpm.log" || true
    echo "--- responses"; head -5 "$work/responses"; head -20 "$work/raw"
fi
echo "fpm: $passed passed, $failed failed"
((failed == 0))
