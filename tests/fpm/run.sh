#!/usr/bin/env bash
# Connection reuse under real PHP-FPM: 2 static workers, many requests through FastCGI.
# The SMTP server must see at most one connection per worker and every mail exactly once.
# Prints "fpm: N passed, M failed" like the other suites.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/fpm/lib.sh
. tests/fpm/lib.sh
fpm_init fpm
requests=${FPM_REQUESTS:-60}

fpm_server smtp python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 120
# shellcheck disable=SC2154  # smtp_port: set by fpm_server
fpm_start 2 "smtp.host = 127.0.0.1" "smtp.port = $smtp_port" "smtp.override_mail = 1" \
    "smtp.timeout = 5"

fpm_requests_in_turn "$requests"

workers=$(fpm_workers "$work/responses")
check "requests were served by 2 workers ($workers)" "$workers" -eq 2

fpm_wait_recorded "$requests"
received=$(fpm_recorded eml)
check "the server received $requests messages ($received)" "$received" -eq "$requests"
unique=$(fpm_distinct_subjects)
check "every request's mail arrived exactly once ($unique distinct)" "$unique" -eq "$requests"

opened=$(grep -c ' OPEN$' "$work/rec/transcript.log" || true)
check "at most one SMTP connection per worker ($opened)" "$opened" -ge 1 -a "$opened" -le 2

reused=$(tail -n 2 "$work/responses" | grep -o '"reused":[0-9]*' | awk -F: '{ n += $2 } END { print n + 0 }')
check "the workers report reused connections" "${reused:-0}" -gt 0

fpm_finish "$work/responses"
