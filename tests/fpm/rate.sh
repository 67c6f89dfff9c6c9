#!/usr/bin/env bash
# smtp.max_rate under real PHP-FPM: 6 workers send as fast as 8 parallel clients can ask, with
# smtp.max_rate = 5/s, for about 5 seconds, to a server that records when each transaction began
# (MAIL FROM) and when each message was complete (time.monotonic()).
#
# Checks: every mail() returned true and every mail arrived exactly once; in no sliding window of
# one second did the server see more than 5 transactions begin, nor more than 5 messages end;
# more workers than one served requests (the schedule is shared by processes, not per worker)
# and requests had to wait for their turn; the schedule file is in smtp.slot_dir and nothing
# warned about it.
# Prints "fpm-rate: N passed, M failed" and the counts (mails, most in any window, waits).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/fpm/lib.sh
. tests/fpm/lib.sh
fpm_init fpm-rate
if [[ $(id -u) -eq 0 ]]; then
    export FPM_USER=nobody
fi
requests=${FPM_REQUESTS:-24}
parallel=${FPM_PARALLEL:-8}
rate=5

chmod 711 "$work"
slot_dir=$work/slots
mkdir -m 0700 "$slot_dir"
if [[ -n ${FPM_USER:-} ]]; then
    chown "$FPM_USER" "$slot_dir"
fi

fpm_server smtp python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 180
# shellcheck disable=SC2154  # smtp_port: set by fpm_server
fpm_start 6 "smtp.host = 127.0.0.1" "smtp.port = $smtp_port" "smtp.override_mail = 1" \
    "smtp.timeout = 5" "smtp.max_time = 20" "smtp.max_rate = $rate/s" "smtp.slot_dir = $slot_dir"

fpm_requests_parallel "$requests" "$parallel"

fpm_wait_recorded "$requests"
received=$(fpm_recorded eml)
unique=$(fpm_distinct_subjects)
check "every request's mail arrived exactly once ($received received, $unique distinct)" \
    "$received" -eq "$requests" -a "$unique" -eq "$requests"

# The most transactions begun (MAIL FROM) and messages ended in any window of one second.
windows=$(python3 - "$work/rec" <<'PY'
import glob, json, sys
metas = [json.load(open(p)) for p in glob.glob(sys.argv[1] + "/*.json")]
def most(times):
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best
mail = sorted(m["mail_at"] for m in metas)
gap = min((b - a for a, b in zip(mail, mail[1:])), default=0)
print(most(mail), most(m["received_at"] for m in metas), "%.0f" % (gap * 1000))
PY
)
read -r most_mail most_end min_gap <<<"$windows"
check "in no one-second window did more than $rate transactions begin (most: $most_mail)" \
    "$most_mail" -le "$rate" -a "$most_mail" -ge 1
check "in no one-second window did more than $rate messages end (most: $most_end)" \
    "$most_end" -le "$rate" -a "$most_end" -ge 1

workers=$(fpm_workers "$work/responses")
check "more than one worker sent ($workers workers)" "$workers" -gt 1
# A call that took longer than a turn's spacing (220 ms at 5/s) waited for its turn.
waits=$(grep -o '"took":[0-9.]*' "$work/responses" | awk -F: '$2 > 0.22 { n++ } END { print n + 0 }')
check "requests waited for their turn ($waits of $requests)" "$waits" -gt 0

rate_files=$(find "$slot_dir" -name '*.rate' | wc -l)
check "the schedule file is in smtp.slot_dir ($rate_files)" "$rate_files" -eq 1
warned=$(grep -c 'is not kept' "$work/fpm.log" || true)
check "nothing warned about the schedule ($warned)" "$warned" -eq 0
echo "fpm-rate counts: $received mails in $took s, at most $most_mail begun and $most_end ended in one second (rate $rate/s), closest MAIL FROMs $min_gap ms apart (turns 220 ms), $waits of $requests waited"

fpm_finish "$work/responses" "$work/rec/transcript.log"
