#!/usr/bin/env bash
# The administrator's settings in an FPM pool (php_admin_value) and in a php.ini [PATH=] section
# (applied at each request's start, as Apache's php_admin_value is) against a script and its
# site's .user.ini: the password and the OAuth client secret are not readable from a worker
# (ini_get, ini_get_all) though mail goes out with them; the [PATH=] password is the site's only
# (a script outside it gets none, in the same worker); a .user.ini can neither lift
# smtp.max_connections nor point the administrator's password at another port (nothing reaches
# that port). Prints "fpm-policy: N passed, M failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/fpm/lib.sh
. tests/fpm/lib.sh
fpm_init fpm-policy
password='Admin-Pass-7731'
client_secret='Client-Secret-5519'

fpm_server smtp python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 120 \
    --auth-user wiki --auth-pass "$password"
fpm_server other python3 tests/servers/fault_smtp.py --port 0 --record "$work/other" --lifetime 120

# The site: the probe at its root, and a directory whose .user.ini (the site owner's file)
# tries to change what only the administrator may.
mkdir -p "$work/site/retarget" "$work/outside"
cp tests/fpm/policy/probe.php "$work/site/probe.php"
cp tests/fpm/policy/probe.php "$work/site/retarget/probe.php"
cp tests/fpm/policy/probe.php "$work/outside/probe.php"
# The password for the site's directory only, in php.ini: set at request activation.
printf '[PATH=%s]\nsmtp.password = "%s"\n' "$work/site" "$password" >"$work/php.ini"
# shellcheck disable=SC2154  # other_port: set by fpm_server
printf 'smtp.port = %s\nsmtp.max_connections = 0\nsmtp.max_rate = 0\nsmtp.password_file = /etc/passwd\n' \
    "$other_port" >"$work/site/retarget/.user.ini"

# The pool: the secrets and the cap as php_admin_value; the port as php_value (the
# administrator's too, but one a site may change: the case the binding is for). fpm_start writes
# only php_admin_value lines, so this pool's file is written here.
fpm_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
    printf '[global]\nerror_log = %s\ndaemonize = no\n' "$work/fpm.log"
    printf '[smtp]\nlisten = 127.0.0.1:%s\npm = static\npm.max_children = 1\n' "$fpm_port"
    printf 'catch_workers_output = yes\n'
    # shellcheck disable=SC2154  # smtp_port: set by fpm_server
    printf 'php_value[smtp.port] = %s\n' "$smtp_port"
    for line in "smtp.host = 127.0.0.1" "smtp.auth = PLAIN" "smtp.username = wiki" \
        "smtp.oauth_client_secret = $client_secret" \
        "smtp.max_connections = 1" "smtp.max_rate = 600/min" "smtp.pool = 0" "smtp.timeout = 5" \
        "smtp.idhost = id.example.test" "smtp.localhost = client.example.test"; do
        printf 'php_admin_value[%s] = %s\n' "${line%% = *}" "${line#* = }"
    done
} >"$work/fpm.conf"
PHP_INI_SCAN_DIR='' "$PHP_FPM" -c "$work/php.ini" -d "extension=$ext" -y "$work/fpm.conf" -R -F &
pids+=($!)
fpm_wait_listening

# probe DIR [NAME [QUERY]]: one request to DIR/probe.php (DIR under $work; "site" is the
# document root); its JSON line into $work/NAME.json.
probe() {
    local dir=$1 name=${2:-$1}
    DOCUMENT_ROOT=$work/site SCRIPT_FILENAME=$work/$dir/probe.php REQUEST_METHOD=GET \
        QUERY_STRING=${3:-} \
        cgi-fcgi -bind -connect "127.0.0.1:$fpm_port" 2>&1 | tr -d '\r' | grep '^{' \
        >"$work/$name.json" || true
}
# field FILE KEY: one value of a probe's JSON line ('' when the probe got no answer).
field() {
    python3 -c "import json,sys
try: print(json.load(open(sys.argv[1])).get(sys.argv[2], ''))
except ValueError: print('')" "$@"
}

probe site restored restore
probe outside
probe site root
check "ini_get('smtp.password') is empty in a worker ($(field "$work/root.json" password))" \
    "$(field "$work/root.json" password)" = ''
check "ini_get('smtp.oauth_client_secret') is empty in a worker" \
    "$(field "$work/root.json" client_secret)" = ''
leaks=$(grep -c -F -e "$password" -e "$client_secret" "$work/root.json" || true)
check "neither secret anywhere in ini_get_all() ($leaks)" "$leaks" -eq 0
check "mail goes out with the administrator's password ($(field "$work/root.json" sent))" \
    "$(field "$work/root.json" sent)" = True
check "ini_restore() cannot undo a [PATH=] password: it still sends ($(field "$work/restored.json" sent))" \
    "$(field "$work/restored.json" sent)" = True
check "outside the [PATH=] directory, after that request in the same worker, no password" \
    "$(field "$work/outside.json" sent)" = False
fpm_wait_recorded 1
authed=$(grep -l '"auth_user": "wiki"' "$work/rec"/*.json 2>/dev/null | wc -l)
check "the server saw AUTH as wiki ($authed)" "$authed" -ge 1

probe site/retarget retarget
check ".user.ini's smtp.port (the pool's php_value) is in force for the site ($(field "$work/retarget.json" port))" \
    "$(field "$work/retarget.json" port)" = "$other_port"
check ".user.ini cannot lift smtp.max_connections ($(field "$work/retarget.json" max_connections))" \
    "$(field "$work/retarget.json" max_connections)" = 1
check ".user.ini cannot lift smtp.max_rate ($(field "$work/retarget.json" max_rate))" \
    "$(field "$work/retarget.json" max_rate)" = 600/min
check "the administrator's password is not sent to .user.ini's port" \
    "$(field "$work/retarget.json" sent)" = False
refusal=$(field "$work/retarget.json" error)
check "the refusal names the changed server and the fix ($refusal)" \
    "$(grep -c -e "127.0.0.1:$other_port" <<<"$refusal" | tr -d ' ')" -eq 1 -a \
    "$(grep -c "Give this server's password with the call" <<<"$refusal")" -eq 1
opened=$(grep -c ' OPEN' "$work/other/transcript.log" 2>/dev/null || true)
check "nothing reached .user.ini's port (${opened:-0} connections)" "${opened:-0}" -eq 0

fpm_finish "$work/root.json" "$work/outside.json" "$work/retarget.json"
