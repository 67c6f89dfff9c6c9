#!/usr/bin/env bash
# smtp.max_connections under real PHP-FPM: 4 workers share 2 slots, against a server that
# refuses any connection over 2 at once (as Postfix's smtpd_client_connection_count_limit and
# Microsoft 365's "432 4.3.2 Concurrent connections limit exceeded" do). Each worker keeps its
# connection between requests; an idle kept connection must give its slot up when another
# worker waits, so no request starves.
#
# As Debian's php-fpm runs: the master as root (it starts the extension), the workers as another
# user (nobody here, when run as root): the slots are that user's.
#
# The slots live in smtp.slot_dir (php_admin_value), a directory of the workers' user, as the
# README recommends (/run/php-smtp from systemd-tmpfiles).
#
# Checks: every request's mail arrived exactly once, the server never had more than 2
# connections at once and never had to refuse one, every request finished (within a
# generous "does not hang" bound), the slot files are in smtp.slot_dir and nothing warned
# about it.
# Prints "fpm-slots: N passed, M failed" like the other suites.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/fpm/lib.sh
. tests/fpm/lib.sh
fpm_init fpm-slots
if [[ $(id -u) -eq 0 ]]; then
    export FPM_USER=nobody
fi
requests=${FPM_REQUESTS:-48}
parallel=${FPM_PARALLEL:-8}

# The workers must reach the slot directory inside $work.
chmod 711 "$work"
slot_dir=$work/slots
mkdir -m 0700 "$slot_dir"
if [[ -n ${FPM_USER:-} ]]; then
    chown "$FPM_USER" "$slot_dir"
fi

fpm_server smtp python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 180 \
    --max-connections 2
# shellcheck disable=SC2154  # smtp_port: set by fpm_server
fpm_start 4 "smtp.host = 127.0.0.1" "smtp.port = $smtp_port" "smtp.override_mail = 1" \
    "smtp.timeout = 5" "smtp.max_connections = 2" "smtp.pool_ping_after = 30" \
    "smtp.slot_dir = $slot_dir"

fpm_requests_parallel "$requests" "$parallel"

fpm_wait_recorded "$requests"
received=$(fpm_recorded eml)
unique=$(fpm_distinct_subjects)
check "every request's mail arrived exactly once ($received received, $unique distinct)" \
    "$received" -eq "$requests" -a "$unique" -eq "$requests"

peak=$(cat "$work/rec/peak" 2>/dev/null || echo 0)
check "the server never had more than 2 connections at once (peak $peak)" "$peak" -le 2 -a "$peak" -ge 1
refused=$(grep -c 'too many connections' "$work/rec/transcript.log" || true)
check "the server never had to refuse a connection ($refused refused)" "$refused" -eq 0
workers=$(fpm_workers "$work/responses")
check "more workers than slots served requests ($workers workers)" "$workers" -gt 2

slot_files=$(find "$slot_dir" -name '*.slot*' | wc -l)
check "the slot files are in smtp.slot_dir ($slot_files)" "$slot_files" -ge 1 -a "$slot_files" -le 2
warned=$(grep -c 'is not kept' "$work/fpm.log" || true)
check "nothing warned about the slot directory ($warned)" "$warned" -eq 0

fpm_finish "$work/responses" "$work/rec/transcript.log"
