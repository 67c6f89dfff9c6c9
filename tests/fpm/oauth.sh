#!/usr/bin/env bash
# XOAUTH2 configured only in the FPM pool (php_admin_value, as in php.ini): PHP's mail() goes
# through the extension, which fetches the OAuth token from the project's token endpoint
# (tests/servers/token_server.py, acting as Microsoft's), caches it per worker and sends it to
# an SMTP server that offers AUTH LOGIN XOAUTH2 only after STARTTLS and accepts only tokens the
# endpoint issued. Each worker must fetch at most once per token lifetime.
# Prints "fpm-oauth: N passed, M failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
ext=${PHP_SMTP_EXT:-$root/target/release/libsmtp.so}
requests=${FPM_REQUESTS:-30}
fpm=${PHP_FPM:-$(command -v php-fpm8.4 || command -v php-fpm8.2 || ls /usr/sbin/php-fpm* 2>/dev/null | head -1)}
secret='Xy7~Q8r.Sec+ret/with=odd&chars'

work=$(mktemp -d -t php-smtp-fpm-oauth.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

sh tests/servers/make_certs.sh "$work/certs" 2>/dev/null
ready() { # ready FILE -> port
    for _ in $(seq 100); do grep -q READY "$1" 2>/dev/null && break; sleep 0.1; done
    awk '/READY/ {print $2}' "$1"
}
python3 tests/servers/token_server.py --port 0 --lifetime 180 --cert "$work/certs/good.pem" \
    --key "$work/certs/good.key" --tenant contoso --state "$work/token" \
    --client "wiki-app=$secret" >"$work/token.out" 2>"$work/token.err" &
pids+=($!)
token_port=$(ready "$work/token.out")
python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 180 \
    --cert "$work/certs/good.pem" --key "$work/certs/good.key" --starttls --auth-requires-tls \
    --auth-user wiki@example.org --auth-mechs "LOGIN XOAUTH2" \
    --xoauth2-tokens "$work/token/tokens" >"$work/smtp.out" &
pids+=($!)
smtp_port=$(ready "$work/smtp.out")
printf '%s\n' "$secret" >"$work/client-secret"

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
php_admin_value[smtp.cafile] = $work/certs/ca.pem
php_admin_value[smtp.override_mail] = 1
php_admin_value[smtp.auth] = XOAUTH2
php_admin_value[smtp.username] = wiki@example.org
php_admin_value[smtp.oauth_provider] = microsoft
php_admin_value[smtp.oauth_tenant] = contoso
php_admin_value[smtp.oauth_token_url] = https://127.0.0.1:$token_port/contoso/oauth2/v2.0/token
php_admin_value[smtp.oauth_client_id] = wiki-app
php_admin_value[smtp.oauth_client_secret_file] = $work/client-secret
php_admin_value[smtp.debug] = 1
php_admin_value[smtp.timeout] = 5
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

: >"$work/responses"
for i in $(seq "$requests"); do
    SCRIPT_FILENAME=$root/tests/fpm/send.php REQUEST_METHOD=GET QUERY_STRING="$i" \
        cgi-fcgi -bind -connect "127.0.0.1:$fpm_port" 2>&1 | tr -d '\r' | grep '^{' >>"$work/responses" || true
done
oks=$(grep -c '"ok":true' "$work/responses" || true)
check "all $requests mail() calls returned true ($oks)" "$([[ $oks == "$requests" ]]; echo $?)"

count() { find "$work/rec" -name "*.$1" 2>/dev/null | wc -l; }
for _ in $(seq 50); do [[ $(count json) -ge $requests ]] && break; sleep 0.1; done
xoauth=$(grep -c '"auth_user": "wiki@example.org"' "$work/rec"/*.json 2>/dev/null | awk -F: '{s+=$2} END {print s+0}')
check "every mail arrived, logged in with XOAUTH2 over TLS ($xoauth)" "$([[ $xoauth == "$requests" ]]; echo $?)"

workers=$(grep -o '"pid":[0-9]*' "$work/responses" | sort -u | wc -l)
fetched=$(python3 -c "import json; print(json.load(open('$work/token/requests.json'))['requests'])")
check "each worker fetched one token ($fetched token requests, $workers workers)" \
    "$([[ $fetched -le $workers && $fetched -ge 1 ]]; echo $?)"

leaks=$(grep -c -F -e "$secret" -e 'eyJ' "$work/fpm.log" || true)
check "neither the secret nor a token in the log" "$([[ $leaks == 0 ]]; echo $?)"
fetched_lines=$(grep -c 'XOAUTH2: fetched a new token (expires in' "$work/fpm.log" || true)
check "the debug log says where the token came from ($fetched_lines lines)" "$([[ $fetched_lines -ge 1 ]]; echo $?)"

if ((failed)); then
    echo "--- fpm log"; tail -30 "$work/fpm.log" || true
    echo "--- responses"; head -3 "$work/responses"
    echo "--- token server"; tail -5 "$work/token.err" || true
fi
echo "fpm-oauth: $passed passed, $failed failed"
((failed == 0))
