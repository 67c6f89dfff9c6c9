#!/usr/bin/env bash
# XOAUTH2 configured only in the FPM pool (php_admin_value, as in php.ini): PHP's mail() goes
# through the extension, which fetches the OAuth token from the project's token endpoint
# (tests/servers/token_server.py, acting as Microsoft's), caches it per worker and sends it to
# an SMTP server that offers AUTH LOGIN XOAUTH2 only after STARTTLS and accepts only tokens the
# endpoint issued. Each worker must fetch at most once per token lifetime.
# Prints "fpm-oauth: N passed, M failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/fpm/lib.sh
. tests/fpm/lib.sh
fpm_init fpm-oauth
requests=${FPM_REQUESTS:-30}
secret='Xy7~Q8r.Sec+ret/with=odd&chars'

sh tests/servers/make_certs.sh "$work/certs" 2>/dev/null
fpm_server token python3 tests/servers/token_server.py --port 0 --lifetime 180 \
    --cert "$work/certs/good.pem" --key "$work/certs/good.key" --tenant contoso \
    --state "$work/token" --client "wiki-app=$secret"
fpm_server smtp python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 180 \
    --cert "$work/certs/good.pem" --key "$work/certs/good.key" --starttls --auth-requires-tls \
    --auth-user wiki@example.org --auth-mechs "LOGIN XOAUTH2" \
    --xoauth2-tokens "$work/token/tokens"
printf '%s\n' "$secret" >"$work/client-secret"

# shellcheck disable=SC2154  # smtp_port, token_port: set by fpm_server
fpm_start 2 "smtp.host = 127.0.0.1" "smtp.port = $smtp_port" "smtp.cafile = $work/certs/ca.pem" \
    "smtp.override_mail = 1" "smtp.auth = XOAUTH2" "smtp.username = wiki@example.org" \
    "smtp.oauth_provider = microsoft" "smtp.oauth_tenant = contoso" \
    "smtp.oauth_token_url = https://127.0.0.1:$token_port/contoso/oauth2/v2.0/token" \
    "smtp.oauth_client_id = wiki-app" "smtp.oauth_client_secret_file = $work/client-secret" \
    "smtp.debug = 1" "smtp.timeout = 5"

fpm_requests_in_turn "$requests"

fpm_wait_recorded "$requests"
xoauth=$(grep -c '"auth_user": "wiki@example.org"' "$work/rec"/*.json 2>/dev/null | awk -F: '{s+=$2} END {print s+0}')
check "every mail arrived, logged in with XOAUTH2 over TLS ($xoauth)" "$xoauth" -eq "$requests"

workers=$(fpm_workers "$work/responses")
fetched=$(python3 -c "import json; print(json.load(open('$work/token/requests.json'))['requests'])")
check "each worker fetched one token ($fetched token requests, $workers workers)" \
    "$fetched" -le "$workers" -a "$fetched" -ge 1

leaks=$(grep -c -F -e "$secret" -e 'eyJ' "$work/fpm.log" || true)
check "neither the secret nor a token in the log" "$leaks" -eq 0
fetched_lines=$(grep -c 'XOAUTH2: fetched a new token (expires in' "$work/fpm.log" || true)
check "the debug log says where the token came from ($fetched_lines lines)" "$fetched_lines" -ge 1

fpm_finish "$work/responses" "$work/token.err"
