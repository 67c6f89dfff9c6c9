#!/usr/bin/env bash
# smtp.max_connections under real PHP-FPM: 4 workers share 2 slots, against a server that
# refuses any connection over 2 at once (as Postfix's smtpd_client_connection_count_limit and
# Microsoft 365's "432 4.3.2 Concurrent connections limit exceeded" do). Each worker keeps its
# connection between requests; an idle kept connection must give its slot up when another
# worker waits, so no request starves.
#
# Checks: every request's mail arrived exactly once, the server never had more than 2
# connections at once and never had to refuse one, and every request finished in time.
# Prints "fpm-slots: N passed, M failed" like the other suites.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
ext=${PHP_SMTP_EXT:-$root/target/release/libsmtp.so}
requests=${FPM_REQUESTS:-48}
parallel=${FPM_PARALLEL:-8}
fpm=${PHP_FPM:-$(command -v php-fpm8.4 || command -v php-fpm8.2 || ls /usr/sbin/php-fpm* 2>/dev/null | head -1)}

work=$(mktemp -d -t php-smtp-fpm-slots.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 180 \
    --max-connections 2 >"$work/smtp.out" &
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
pm.max_children = 4
catch_workers_output = yes

php_admin_value[smtp.host] = 127.0.0.1
php_admin_value[smtp.port] = $smtp_port
php_admin_value[smtp.override_mail] = 1
php_admin_value[smtp.timeout] = 5
php_admin_value[smtp.max_connections] = 2
php_admin_value[smtp.pool_ping_after] = 30
CONF
"$fpm" -n -d "extension=$ext" -y "$work/fpm.conf" -R -F &
pids+=($!)
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$fpm_port),0.2)" 2>/dev/null && break
    sleep 0.1
done

passed=0 failed=0
check() { # check NAME CONDITION-RESULT
    if [[ $2 == 0 ]]; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}

one() {
    SCRIPT_FILENAME=$root/tests/fpm/send.php REQUEST_METHOD=GET QUERY_STRING="$1" \
        cgi-fcgi -bind -connect "127.0.0.1:$fpm_port" 2>&1 | tr -d '\r' | grep '^{' || true
}
export -f one
export root fpm_port
started=$SECONDS
seq "$requests" | xargs -P "$parallel" -I{} bash -c 'one {}' >"$work/responses"
took=$((SECONDS - started))

oks=$(grep -c '"ok":true' "$work/responses" || true)
check "all $requests mail() calls returned true ($oks)" "$([[ $oks == "$requests" ]]; echo $?)"
check "the requests finished in time ($took s for $requests)" "$([[ $took -lt 60 ]]; echo $?)"

count() { find "$work/rec" -name "*.$1" 2>/dev/null | wc -l; }
for _ in $(seq 50); do
    [[ $(count json) -ge $requests ]] && break
    sleep 0.1
done
unique=$(cat "$work/rec"/*.eml 2>/dev/null | grep -a '^Subject: ' | sort -u | wc -l || true)
received=$(count eml)
check "every request's mail arrived exactly once ($received received, $unique distinct)" \
    "$([[ $received == "$requests" && $unique == "$requests" ]]; echo $?)"

peak=$(cat "$work/rec/peak" 2>/dev/null || echo 0)
check "the server never had more than 2 connections at once (peak $peak)" "$([[ $peak -le 2 && $peak -ge 1 ]]; echo $?)"
refused=$(grep -c 'too many connections' "$work/rec/transcript.log" || true)
check "the server never had to refuse a connection ($refused refused)" "$([[ $refused == 0 ]]; echo $?)"
workers=$(grep -o '"pid":[0-9]*' "$work/responses" | sort -u | wc -l)
check "more workers than slots served requests ($workers workers)" "$([[ $workers -gt 2 ]]; echo $?)"

if ((failed)); then
    echo "--- fpm log"; tail -20 "$work/fpm.log" || true
    echo "--- responses"; head -5 "$work/responses"
    echo "--- transcript"; tail -20 "$work/rec/transcript.log" || true
fi
echo "fpm-slots: $passed passed, $failed failed"
((failed == 0))
