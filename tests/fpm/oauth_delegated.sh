#!/usr/bin/env bash
# Delegated OAuth (smtp.oauth_provider = microsoft-delegated) under real PHP-FPM: 4 workers
# share one refresh-token file, against the project's token endpoint acting as Microsoft's with
# rotation (each refresh token works once and the answer brings a new one; stricter than
# Microsoft, which keeps the old one valid a while). Parallel requests make the workers refresh
# at about the same time: each must read the token the previous one wrote back, under the lock.
#
# As Debian's php-fpm runs: the master as root, the workers as another user (nobody here, when
# run as root), who owns the token's directory and file.
#
# Checks: every mail() returned true and every mail arrived once, logged in with XOAUTH2 over
# TLS; the endpoint issued one token per worker that sent (at most 4) and refused none; the file
# holds the one refresh token valid now, still mode 0600 and the workers' user's, and nothing
# else is left in its directory; nothing warned.
# Prints "fpm-oauth-delegated: N passed, M failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/fpm/lib.sh
. tests/fpm/lib.sh
fpm_init fpm-oauth-delegated
if [[ $(id -u) -eq 0 ]]; then
    export FPM_USER=nobody
fi
requests=${FPM_REQUESTS:-32}
parallel=${FPM_PARALLEL:-8}

chmod 711 "$work"
sh tests/servers/make_certs.sh "$work/certs" 2>/dev/null
chmod -R go+rX "$work/certs"
fpm_server token python3 tests/servers/token_server.py --port 0 --lifetime 180 \
    --cert "$work/certs/good.pem" --key "$work/certs/good.key" \
    --state "$work/token" --client "wiki-public=" --refresh-token rt.first --rotate
fpm_server smtp python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 180 \
    --cert "$work/certs/good.pem" --key "$work/certs/good.key" --starttls --auth-requires-tls \
    --auth-user someone@outlook.example --auth-mechs "LOGIN XOAUTH2" \
    --xoauth2-tokens "$work/token/tokens"

tok_dir=$work/oauth
mkdir -m 0700 "$tok_dir"
printf 'rt.first\n' >"$tok_dir/refresh-token"
chmod 0600 "$tok_dir/refresh-token"
owner=$(id -un)
if [[ -n ${FPM_USER:-} ]]; then
    chown -R "$FPM_USER" "$tok_dir"
    owner=$FPM_USER
fi

# shellcheck disable=SC2154  # smtp_port, token_port: set by fpm_server
fpm_start 4 "smtp.host = 127.0.0.1" "smtp.port = $smtp_port" "smtp.cafile = $work/certs/ca.pem" \
    "smtp.override_mail = 1" "smtp.auth = XOAUTH2" "smtp.username = someone@outlook.example" \
    "smtp.oauth_provider = microsoft-delegated" "smtp.oauth_tenant = common" \
    "smtp.oauth_token_url = https://127.0.0.1:$token_port/common/oauth2/v2.0/token" \
    "smtp.oauth_client_id = wiki-public" \
    "smtp.oauth_refresh_token_file = $tok_dir/refresh-token" "smtp.timeout = 5"

fpm_requests_parallel "$requests" "$parallel"

fpm_wait_recorded "$requests"
xoauth=$(grep -c '"auth_user": "someone@outlook.example"' "$work/rec"/*.json 2>/dev/null | awk -F: '{s+=$2} END {print s+0}')
unique=$(fpm_distinct_subjects)
check "every mail arrived once, logged in with XOAUTH2 over TLS ($xoauth, $unique distinct)" \
    "$xoauth" -eq "$requests" -a "$unique" -eq "$requests"

workers=$(fpm_workers "$work/responses")
read -r issued refused < <(python3 -c "
import json
c = json.load(open('$work/token/requests.json'))
print(c['issued'], len(c['refused']))")
check "one token per worker that sent ($issued issued, $workers workers), none refused ($refused)" \
    "$issued" -ge 1 -a "$issued" -le "$workers" -a "$refused" -eq 0
check "more than one worker refreshed from the shared file ($issued)" "$issued" -gt 1

stored=$(head -n 1 "$tok_dir/refresh-token")
valid=$(cat "$work/token/refresh_tokens")
check "the file holds the one refresh token valid now ($stored)" "$stored" = "$valid"
mode=$(stat -c '%a %U' "$tok_dir/refresh-token")
check "the file is still mode 0600 and the workers' user's ($mode)" "$mode" = "600 $owner"
left=$(find "$tok_dir" -mindepth 1 ! -name refresh-token ! -name '.*lock*' | wc -l)
check "nothing else is left in its directory ($left)" "$left" -eq 0
warned=$(grep -c -i 'warn' "$work/fpm.log" || true)
check "nothing warned ($warned)" "$warned" -eq 0

fpm_finish "$work/responses" "$work/token.err"
