#!/usr/bin/env bash
# php-smtp benchmark: the extension against PHP's SMTP mailers and a raw pipelined client,
# first against Postfix's smtp-sink (no TLS, no AUTH, no CHUNKING), then against a real
# private Postfix 3.7 with STARTTLS/implicit TLS, AUTH and CHUNKING behind a delay proxy.
#
#   bench/run.sh [N]        N messages per smtp-sink case (default 2000), each case capped at
#                           BENCH_BUDGET seconds (default 5); msgs/s is from what was sent.
#
# Environment: BENCH_BUDGET (s, default 5), BENCH_RTT_MS (default 2: the proxy delays each
# direction by half), BENCH_CASES (space-separated subset), BENCH_REPEAT (default 3: loopback
# cases that finish in under 1 s are run that many times and the median run is reported),
# BENCH_SINK (default 1; 0 skips the smtp-sink phases), BENCH_POSTFIX (default 1; 0 skips the
# Postfix phases), BENCH_PF_N (default 1000), BENCH_PF_BUDGET (s, default 4), BENCH_PF_RTTS
# (default "2 20"), BENCH_PF_CASES (subset), BENCH_PF_CAPTURE_N (default 10), PHP (default
# php). See bench/README.md.
#
# Phases, all in one run:
#   1. sanity: every case sends 3 mails to an smtp-sink that dumps each to a file, directly and
#      through the delay proxy; each case must have delivered all 6 (subject and envelope checked).
#   2. loopback: every case against smtp-sink directly (-c counters, no dump).
#   3. rtt: every case through bench/delay_proxy.py in front of the same kind of sink.
#   4. callgrind (if valgrind is installed, BENCH_CALLGRIND=0 skips it): user-space
#      instructions per message of ext-mail, ext-smtp_send and raw-pipelined, which unlike
#      msgs/s on loopback does not depend on the machine's scheduling.
#   4b. session limit (BENCH_SESSION=0 skips it): tests/servers/fault_smtp.py ending every
#      session as Amazon SES does (421 to the MAIL after BENCH_SESSION_LIMIT messages, 350),
#      BENCH_SESSION_N mails per case on loopback and through the proxy, counted by the server.
#   5. Postfix (as root): tests/servers/postfix.py in /dev/shm, STARTTLS + AUTH on its
#      submission port, implicit TLS on its smtps port; sanity (3 mails per case through the
#      2 ms proxy into its Maildir), then every Postfix case through the proxy at each of
#      BENCH_PF_RTTS ms, counted by Postfix (its log's status=sent lines) and by the proxy
#      (connections, round trips, the chunks after each TLS handshake). Last, 10 cold sends
#      each (STARTTLS, implicit TLS) straight to Postfix, every TCP segment timed on lo.
# Each case is its own php process (peak memory and max RSS are per case). After each case,
# the server's own count must have grown by what the client reported as sent.
# Prints the tables and writes bench/results.md. Exits 1 if any case failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
bench=$root/bench

N=${1:-2000}
BUDGET=${BENCH_BUDGET:-5}
RTT_MS=${BENCH_RTT_MS:-2}
PHP=${PHP:-php}
ALL_CASES="ext-mail ext-smtp_send ext-smtp_send-nopool pear-mediawiki pear-persist pear-tuned phpmailer-keepalive phpmailer-nodelay symfony-mailer symfony-nodelay raw-pipelined"
CASES=${BENCH_CASES:-$ALL_CASES}
REPEAT=${BENCH_REPEAT:-3}
SINK=${BENCH_SINK:-1}
POSTFIX=${BENCH_POSTFIX:-1}
PF_N=${BENCH_PF_N:-1000}
PF_BUDGET=${BENCH_PF_BUDGET:-4}
PF_RTTS=${BENCH_PF_RTTS:-2 20}
PF_CAPTURE_N=${BENCH_PF_CAPTURE_N:-10}
PF_ALL_CASES="ext-mail ext-mail-nochunk ext-mail-nopool ext-mail-nopool-nochunk ext-mail-nopool-smtps ext-smtp_send ext-smtp_send-nochunk ext-smtp_send-nopool ext-smtp_send-nopool-nochunk pear-mediawiki pear-tuned phpmailer-nodelay symfony-nodelay raw-pipelined raw-pipelined-nochunk"
PF_CASES=${BENCH_PF_CASES:-$PF_ALL_CASES}
SESSION=${BENCH_SESSION:-1}
SESSION_LIMIT=${BENCH_SESSION_LIMIT:-350}
SESSION_N=${BENCH_SESSION_N:-1000}
SESSION_CASES=${BENCH_SESSION_CASES:-ext-mail ext-mail-max100}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$N'"
[[ $PF_N =~ ^[1-9][0-9]*$ ]] || die "BENCH_PF_N must be a positive integer, got '$PF_N'"
if ((POSTFIX)) && [[ $(id -u) -ne 0 ]]; then
    say "not root: skipping the Postfix phases (tests/servers/postfix.py needs root)"
    POSTFIX=0
fi
command -v smtp-sink >/dev/null || PATH=$PATH:/usr/sbin
command -v smtp-sink >/dev/null || die "smtp-sink not found (apt-get install postfix)"
command -v "$PHP" >/dev/null || die "$PHP not found"
[[ -f /usr/share/php/Mail.php && -f /usr/share/php/Net/SMTP.php ]] || die "PEAR Mail/Net_SMTP missing (apt-get install php-mail php-net-smtp)"
[[ -f /usr/share/php/libphp-phpmailer/autoload.php ]] || die "PHPMailer missing (apt-get install libphp-phpmailer)"
[[ -f /usr/share/php/Symfony/Component/Mailer/autoload.php ]] || die "Symfony Mailer missing (apt-get install php-symfony-mailer)"

# The extension: build it if missing, never while another cargo runs. It is copied first, so
# every case runs the same binary even if someone rebuilds during the run.
lib=$root/target/release/libsmtp.so
waited=0
while pgrep -x cargo >/dev/null; do
    ((waited == 0)) && say "cargo is running: waiting for it to finish (up to 5 min)"
    ((waited >= 300)) && { say "cargo still running after 5 min: going on with the current build"; break; }
    sleep 2
    waited=$((waited + 2))
done
if [[ ! -f $lib ]]; then
    [[ -d ${HOME:-/root}/.cargo/bin ]] && PATH=${HOME:-/root}/.cargo/bin:$PATH
    say "building the extension (cargo build --release)"
    cargo build --release >&2
fi
[[ -f $lib ]] || die "$lib was not built"

work=$(mktemp -d -t php-smtp-bench.XXXXXX)
pids=()
pfdir=
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [[ -n $pfdir ]]; then
        python3 "$root/tests/servers/postfix.py" --stop "$pfdir" >&2 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$lib" "$work/libsmtp.so"
ext_info="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ -n $(git -C "$root" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    ext_info+=" + uncommitted changes in src/"
fi
ext_info+=", libsmtp.so built $(date -r "$lib" '+%Y-%m-%d %H:%M'), sha256 $(sha256sum "$lib" | cut -c1-12)"

# Same flags for every case: no php.ini, the modules the PHP mailers need, the extension.
php_flags=(-n -d extension=ctype -d extension=iconv -d extension=mbstring -d "extension=$work/libsmtp.so")

time_cmd=()
if [[ -x /usr/bin/time ]]; then
    time_cmd=(/usr/bin/time -f %M -o "$work/rss")
fi

sink_user=()
if [[ $(id -u) -eq 0 ]]; then
    sink_user=(-u nobody) # smtp-sink refuses to run as root without it
    chmod 755 "$work"
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # port pid
    local i
    for i in $(seq 100); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# start_sink LOGFILE [smtp-sink options...]: sets sink_port, sink_pid.
start_sink() {
    local log=$1 port
    shift
    for _ in 1 2 3; do
        port=$(free_port)
        smtp-sink "${sink_user[@]}" "$@" "127.0.0.1:$port" 1000 >"$log" 2>&1 &
        sink_pid=$!
        if wait_port "$port" "$sink_pid"; then
            pids+=("$sink_pid")
            sink_port=$port
            return 0
        fi
        kill "$sink_pid" 2>/dev/null || true
        wait "$sink_pid" 2>/dev/null || true
    done
    cat "$log" >&2
    die "could not start smtp-sink"
}

# start_proxy UPSTREAM_PORT ONE_WAY_DELAY_MS [LOG]: sets proxy_port, proxy_pid. With LOG, the
# proxy writes a line per connection there (round trips, the first 40 chunks timed).
start_proxy() {
    local out=$work/proxy.$1.$RANDOM log=()
    [[ -n ${3:-} ]] && log=(--log "$3" --trace 40)
    python3 "$bench/delay_proxy.py" --listen 127.0.0.1:0 --upstream "127.0.0.1:$1" \
        --delay-ms "$2" --max-seconds 1800 "${log[@]}" >"$out" 2>&1 &
    proxy_pid=$!
    pids+=("$proxy_pid")
    for _ in $(seq 100); do
        if grep -q '^PORT ' "$out" 2>/dev/null; then
            proxy_port=$(sed -n 's/^PORT //p' "$out")
            return 0
        fi
        kill -0 "$proxy_pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$out" >&2
    die "could not start delay_proxy.py"
}

# start_calibrated_proxy UPSTREAM_PORT RTT_MS [LOG]: like start_proxy, but asyncio's timers
# overshoot (epoll waits in whole ms, timer slack, Python's own time), so the measured NOOP
# round trip is compared with RTT_MS and the per-direction delay corrected, up to 4 tries.
# Sets proxy_port, proxy_delay, measured (text) and measured_ms.
start_calibrated_proxy() {
    local delay m try want=$2
    delay=$(python3 -c "print($want / 2)")
    for try in 1 2 3 4; do
        start_proxy "$1" "$delay" "${3:-}"
        proxy_delay=$delay
        m=$(python3 "$bench/delay_proxy.py" --probe "127.0.0.1:$proxy_port" --count 60)
        measured=$(awk '/^RTT/ {printf "median %.2f ms (min %.2f, max %.2f)", $2, $3, $4}' <<<"$m")
        measured_ms=$(awk '/^RTT/ {print $2}' <<<"$m")
        read -r delay ok < <(python3 -c "
import sys
med = float(sys.argv[1].split()[1]); want = $want; d = $delay
ok = abs(med - want) <= 0.04 * want
print(max(0.0, round(d - (med - want) / 2, 3)), int(ok))" "$m")
        say "proxy: ${proxy_delay} ms each way gives a NOOP round trip of $measured"
        ((ok)) && return 0
        ((try == 4)) && return 0
        kill "$proxy_pid" 2>/dev/null || true
        wait "$proxy_pid" 2>/dev/null || true
    done
}

# Set for the Postfix phases (empty for smtp-sink): environment and ini flags that give every
# case the server's CA, the SMTP login and TLS.
pf_login=()
pf_ini=()
wrap=() # a command run_case runs php under (bench/lo_capture.py)

# run_case CASE N PORT [BUDGET [HOST]]: runs one php process; leaves its JSON in $work/out,
# rss in $work/rss. The case name's suffixes choose ini flags: -nopool smtp.pool=0,
# -nochunk smtp.chunking=off, -smtps implicit TLS (ssl://HOST); ext-mail* overrides mail().
run_case() {
    local c=$1 n=$2 port=$3 budget=${4:-$BUDGET} host=${5:-127.0.0.1} extra=() env=()
    [[ $c == ext-mail* ]] && extra+=(-d smtp.override_mail=1)
    [[ $c == *-nopool* ]] && extra+=(-d smtp.pool=0)
    [[ $c == *-nochunk* ]] && extra+=(-d smtp.chunking=off)
    [[ $c == *-max100* ]] && extra+=(-d smtp.pool_max_messages=100)
    if ((${#pf_login[@]})); then
        env=("${pf_login[@]}" BENCH_TLS=starttls)
        if [[ $c == *-smtps ]]; then
            env=("${pf_login[@]}" BENCH_TLS=smtps)
            host=ssl://$host
        fi
    fi
    rm -f "$work/rss"
    local rc=0
    "${wrap[@]}" env "${env[@]}" "${time_cmd[@]}" "$PHP" "${php_flags[@]}" "${pf_ini[@]}" \
        -d "smtp.host=$host" -d "smtp.port=$port" -d smtp.idhost=example.org -d smtp.localhost=localhost \
        "${extra[@]}" "$bench/bench.php" "$c" "$n" "$budget" 127.0.0.1 "$port" \
        >"$work/out" 2>"$work/err" || rc=$?
    if ((rc != 0)) || [[ -s $work/err ]]; then
        sed "s/^/bench:   [$c] /" "$work/err" >&2
    fi
    return 0
}

sink_count() { # smtp-sink -c writes "\rsess=.. quit=.. mesg=N" as it goes
    local m
    m=$(tr '\r' '\n' <"$1" | sed -n 's/.*mesg=\([0-9][0-9]*\).*/\1/p' | tail -n1)
    echo "${m:-0}"
}

# case_json: the JSON line bench.php printed last (or {}); json_field JSON KEY: one number.
case_json() {
    local out
    out=$(tail -n1 "$work/out" 2>/dev/null || true)
    [[ -n $out ]] || out='{}'
    echo "$out"
}
json_field() {
    php -n -r '$j = json_decode($argv[1], true); echo (int)($j[$argv[2]] ?? 0);' "$1" "$2"
}
case_summary() {
    php -n -r '$j = json_decode($argv[1], true); printf("%d sent, %d failed, %.3f s", $j["sent"] ?? 0, $j["failed"] ?? 0, $j["seconds"] ?? 0);' "$1"
}
lines_of() { # the number of lines of a file (0 if missing)
    if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi
}

sane=1
results=$work/results.tsv
: >"$results"
sink_measured=n/a sink_delay=n/a

if ((SINK)); then
# ---------------------------------------------------------------- 1. sanity
say "sanity: 3 mails per case to a dumping smtp-sink, directly and through the proxy"
dump=$work/dump
mkdir "$dump"
[[ ${#sink_user[@]} -gt 0 ]] && chown nobody "$dump"
start_sink "$work/sink-dump.log" -d "$dump/%H%M%S."
dump_port=$sink_port
start_proxy "$dump_port" "$(python3 -c "print($RTT_MS / 2)")"
dump_proxy_port=$proxy_port
for c in $CASES; do
    run_case "$c" 3 "$dump_port"
    run_case "$c" 3 "$dump_proxy_port"
    got=0
    for _ in $(seq 20); do
        got=$(grep -l -x -F "Subject: php-smtp bench: $c" -r "$dump" 2>/dev/null |
            xargs -r grep -l -i "^X-Rcpt-Args: <sink@example.net>" 2>/dev/null |
            xargs -r grep -l -i "^X-Mail-Args: <bench@example.org>" 2>/dev/null | wc -l) || got=0
        ((got >= 6)) && break
        sleep 0.05
    done
    if ((got == 6)); then
        say "  $c: 6/6 delivered"
    else
        say "  $c: FAILED: $got/6 delivered"
        sane=0
    fi
done
((sane)) || say "sanity phase failed: the timed results of the failing cases will show it too"

# ---------------------------------------------------------------- 2./3. timed
start_sink "$work/sink-loopback.log" -c
loop_port=$sink_port
loop_log=$work/sink-loopback.log
start_sink "$work/sink-rtt.log" -c
rtt_sink_log=$work/sink-rtt.log
rtt_proxy_log=$work/proxy-sink.log
start_calibrated_proxy "$sink_port" "$RTT_MS" "$rtt_proxy_log"
rtt_port=$proxy_port
sink_measured=$measured sink_delay=$proxy_delay
say "proxy on 127.0.0.1:$rtt_port: NOOP round trip $measured"

for phase in loopback rtt; do
    if [[ $phase == loopback ]]; then port=$loop_port log=$loop_log; else port=$rtt_port log=$rtt_sink_log; fi
    say "$phase: N=$N, budget ${BUDGET}s per case"
    for c in $CASES; do
        : >"$work/runs"
        for run in $(seq "$REPEAT"); do
            before=$(sink_count "$log")
            from=$(($(lines_of "$rtt_proxy_log") + 1))
            run_case "$c" "$N" "$port"
            out=$(case_json)
            sent=$(json_field "$out" sent)
            delta=0
            for _ in $(seq 40); do
                delta=$(($(sink_count "$log") - before))
                ((delta >= sent)) && break
                sleep 0.025
            done
            conns='{}'
            [[ $phase == rtt ]] && conns=$(python3 "$bench/proxylog.py" "$rtt_proxy_log" --from "$from")
            rss=n/a
            [[ -s $work/rss ]] && rss=$(tail -n1 "$work/rss" | tr -dc 0-9)
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$c" "${rss:-n/a}" "$delta" "$out" "$conns" >>"$work/runs"
            say "  $c: $(case_summary "$out"), smtp-sink counted $delta"
            # Only short runs are repeated (loopback, fast cases): a run that used a good part
            # of the budget already averages over enough time.
            fast=$(php -n -r '$j = json_decode($argv[1], true); echo (($j["seconds"] ?? 99) < 1.0 && ($j["failed"] ?? 1) == 0) ? 1 : 0;' "$out")
            [[ $phase == loopback && $fast == 1 && $delta == "$sent" ]] || break
        done
        python3 "$bench/report.py" --pick "$work/runs" >>"$results"
    done
done
fi

# ---------------------------------------------------------------- 4. instructions per message
# msgs/s on loopback depends on how fast this machine switches between php and smtp-sink;
# callgrind's instruction count does not: (instructions for 600 messages - for 100) / 500.
instr=$work/instr.tsv
: >"$instr"
if ((SINK)) && [[ ${BENCH_CALLGRIND:-1} != 0 ]] && command -v valgrind >/dev/null; then
    say "callgrind: user-space instructions per message (loopback)"
    for c in ext-mail ext-smtp_send raw-pipelined; do
        [[ " $CASES " == *" $c "* ]] || continue
        counts=()
        for n in 100 600; do
            extra=()
            [[ $c == ext-mail ]] && extra=(-d smtp.override_mail=1)
            total=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$PHP" "${php_flags[@]}" \
                -d smtp.host=127.0.0.1 -d "smtp.port=$loop_port" -d smtp.idhost=example.org -d smtp.localhost=localhost \
                "${extra[@]}" "$bench/bench.php" "$c" "$n" 120 127.0.0.1 "$loop_port" 2>&1 >/dev/null |
                sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -n1) || true
            counts+=("${total:-0}")
        done
        if [[ ${counts[0]} != 0 && ${counts[1]} != 0 ]]; then
            per=$(((counts[1] - counts[0]) / 500))
            printf '%s\t%s\n' "$c" "$per" >>"$instr"
            say "  $c: $per instructions per message"
        fi
    done
fi

# ---------------------------------------------------------------- 4b. session limit
# A server that ends every session itself after SESSION_LIMIT messages (Amazon SES: ~350),
# as tests/servers/fault_smtp.py --max-messages does: "421 4.7.0" to the next MAIL, then it
# closes. The extension meets it once per worker, retries that mail on a new connection, and
# then ends its sessions before the limit; ext-mail-max100 is smtp.pool_max_messages=100.
# The server's count: the messages it recorded as accepted.
session_info=
if ((SESSION)); then
    say "session limit: fault_smtp.py --max-messages $SESSION_LIMIT, $SESSION_N mails per case"
    python3 "$root/tests/servers/fault_smtp.py" --record "$work/fault" --max-messages "$SESSION_LIMIT" \
        --nodelay --chunking --lifetime 3600 >"$work/fault.ready" 2>"$work/fault.err" &
    pids+=($!)
    for _ in $(seq 100); do
        [[ -s $work/fault.ready ]] && break
        sleep 0.05
    done
    fault_port=$(sed -n 's/^READY //p' "$work/fault.ready")
    [[ -n $fault_port ]] || die "tests/servers/fault_smtp.py did not start: $(cat "$work/fault.err")"
    session_proxy_log=$work/proxy-session.log
    start_calibrated_proxy "$fault_port" "$RTT_MS" "$session_proxy_log"
    session_rtt_port=$proxy_port
    session_info="fault_smtp.py --max-messages $SESSION_LIMIT; RTT phase through the proxy: NOOP round trip $measured, proxy set to ${proxy_delay} ms each way"
    fault_accepted() { # the server's count of accepted messages (its recorded replies)
        cat "$work"/fault/*.json 2>/dev/null | grep -c '"reply": *2[0-9][0-9]' || true
    }
    fault_421s() {
        cat "$work/fault/transcript.log" 2>/dev/null | grep -c ' S: 421' || true
    }
    for phase in session-loopback session-rtt; do
        port=$fault_port
        [[ $phase == session-rtt ]] && port=$session_rtt_port
        for c in $SESSION_CASES; do
            before=$(fault_accepted)
            refused_before=$(fault_421s)
            from=$(($(lines_of "$session_proxy_log") + 1))
            run_case "$c" "$SESSION_N" "$port" 60
            out=$(case_json)
            sent=$(json_field "$out" sent)
            delta=0
            for _ in $(seq 40); do
                delta=$(($(fault_accepted) - before))
                ((delta >= sent)) && break
                sleep 0.05
            done
            conns='{}'
            [[ $phase == session-rtt ]] && conns=$(python3 "$bench/proxylog.py" "$session_proxy_log" --from "$from")
            rss=n/a
            [[ -s $work/rss ]] && rss=$(tail -n1 "$work/rss" | tr -dc 0-9)
            out=$(python3 -c 'import json, sys; j = json.loads(sys.argv[1]); j["refused_421"] = int(sys.argv[2]); print(json.dumps(j, separators=(",", ":")))' \
                "$out" "$(($(fault_421s) - refused_before))")
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$c" "${rss:-n/a}" "$delta" "$out" "$conns" >>"$results"
            say "  $phase $c: $(case_summary "$out"), the server accepted $delta"
        done
    done
fi

# ---------------------------------------------------------------- 5. Postfix, TLS + AUTH
# A private Postfix 3.7 (tests/servers/postfix.py) in /dev/shm, so that its queue files'
# fsync() costs nothing: on this machine's disk it cost 3.6 ms a message, more than the 2 ms
# round trip measured. Sanity mail goes to sink@example.test (virtual(8), the catch-all
# Maildir); timed mail to <case>.rtt<R>@discard.test (queued, then thrown away by discard(8)).
pf_rtts=()
if ((POSTFIX)); then
    pfdir=$(mktemp -d -p /dev/shm php-smtp-bench-pf.XXXXXX)
    pf_pass="bench-$RANDOM$RANDOM"
    say "postfix: starting a private instance in $pfdir"
    python3 "$root/tests/servers/postfix.py" --detach --dir "$pfdir" --no-wire-log \
        --user "bench@example.test:$pf_pass" --discard-domain discard.test >"$work/pf.ready" ||
        die "tests/servers/postfix.py did not start"
    pf_json=$(sed -n 's/^READY //p' "$work/pf.ready")
    pf_get() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$pf_json" "$1"; }
    pf_sub=$(pf_get submission)
    pf_smtps=$(pf_get smtps)
    pf_ca=$(pf_get ca)
    pf_log=$(pf_get log)
    pf_maildir=$(pf_get maildir)
    pf_version=$(postconf -d -h mail_version 2>/dev/null || echo '?')
    pf_login=(BENCH_USER=bench@example.test "BENCH_PASS=$pf_pass")
    pf_ini=(-d "openssl.cafile=$pf_ca" -d "smtp.cafile=$pf_ca" -d smtp.auth=1
        -d smtp.username=bench@example.test -d "smtp.password=$pf_pass")
    declare -A pf_port pf_measured pf_delay pf_sublog pf_smtpslog
    for R in $PF_RTTS; do
        pf_sublog[$R]=$work/proxy-pf-submission-$R.log
        pf_smtpslog[$R]=$work/proxy-pf-smtps-$R.log
        start_calibrated_proxy "$pf_sub" "$R" "${pf_sublog[$R]}"
        pf_port[$R]=$proxy_port
        pf_measured[$R]="$measured_ms"
        pf_delay[$R]=$proxy_delay
        pf_rtts+=("$R=$measured_ms=$proxy_delay")
        # The smtps port speaks TLS first, so the probe cannot measure it: same delay.
        start_proxy "$pf_smtps" "$proxy_delay" "${pf_smtpslog[$R]}"
        pf_port[$R-smtps]=$proxy_port
    done

    # pf_case_port CASE R: the proxy port and its log for a case at R ms.
    pf_case_port() {
        if [[ $1 == *-smtps ]]; then
            echo "${pf_port[$2-smtps]} ${pf_smtpslog[$2]}"
        else
            echo "${pf_port[$2]} ${pf_sublog[$2]}"
        fi
    }
    pf_sent_count() { # Postfix's own count: status=sent lines for one recipient
        grep -F "to=<$1>," "$pf_log" 2>/dev/null | grep -c "status=sent" || true
    }

    first_rtt=${PF_RTTS%% *}
    say "postfix sanity: 3 mails per case through the ${first_rtt} ms proxy, into Postfix's Maildir"
    catchall=$pf_maildir/example.test/_catchall/new
    for c in $PF_CASES; do
        read -r port _ < <(pf_case_port "$c" "$first_rtt")
        BENCH_TO=sink@example.test run_case "$c" 3 "$port" 30
        got=0
        for _ in $(seq 100); do
            got=$(grep -l -x -F "Subject: php-smtp bench: $c" -r "$catchall" 2>/dev/null |
                xargs -r grep -l -x -F "Return-Path: <bench@example.org>" 2>/dev/null |
                xargs -r grep -l -x -F "Delivered-To: sink@example.test" 2>/dev/null | wc -l) || got=0
            ((got >= 3)) && break
            sleep 0.05
        done
        if ((got == 3)); then
            say "  $c: 3/3 delivered"
        else
            say "  $c: FAILED: $got/3 delivered ($(case_summary "$(case_json)"))"
            sane=0
        fi
    done

    for R in $PF_RTTS; do
        say "postfix at $R ms RTT: N=$PF_N, budget ${PF_BUDGET}s per case"
        for c in $PF_CASES; do
            read -r port plog < <(pf_case_port "$c" "$R")
            rcpt="$c.rtt$R@discard.test"
            from=$(($(lines_of "$plog") + 1))
            before=$(pf_sent_count "$rcpt")
            BENCH_TO=$rcpt run_case "$c" "$PF_N" "$port" "$PF_BUDGET"
            out=$(case_json)
            sent=$(json_field "$out" sent)
            delta=0
            for _ in $(seq 200); do
                delta=$(($(pf_sent_count "$rcpt") - before))
                ((delta >= sent)) && break
                sleep 0.05
            done
            conns=$(python3 "$bench/proxylog.py" "$plog" --from "$from")
            rss=n/a
            [[ -s $work/rss ]] && rss=$(tail -n1 "$work/rss" | tr -dc 0-9)
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "postfix-$R" "$c" "${rss:-n/a}" "$delta" "$out" "$conns" >>"$results"
            say "  $c: $(case_summary "$out"), Postfix delivered $delta, $(python3 -c '
import json, sys
j = json.loads(sys.argv[1]); s = json.loads(sys.argv[2]).get("sent") or 0
print("%d connection(s), %.2f round trips a mail" % (j["conns"], j["turns"] / s if s else 0))' "$conns" "$out")"
        done
    done

    # Cold sends straight to Postfix (no proxy), every TCP segment timed by bench/lo_capture.py:
    # whether the server holds data back until the client's own kernel ACKs.
    say "postfix: $PF_CAPTURE_N cold sends each straight to Postfix, segments timed (bench/lo_capture.py)"
    for c in ext-mail-nopool ext-mail-nopool-smtps; do
        port=$pf_sub
        [[ $c == *-smtps ]] && port=$pf_smtps
        rcpt="$c.direct@discard.test"
        before=$(pf_sent_count "$rcpt")
        wrap=(python3 "$bench/lo_capture.py" --port "$port" --stdout "$work/capture.out" --)
        BENCH_TO=$rcpt run_case "$c" "$PF_CAPTURE_N" "$port" 30
        wrap=()
        capture=$(tail -n1 "$work/out" 2>/dev/null || true)
        [[ -n $capture ]] || capture='{}'
        out=$(tail -n1 "$work/capture.out" 2>/dev/null || true)
        [[ -n $out ]] || out='{}'
        sent=$(json_field "$out" sent)
        delta=0
        for _ in $(seq 200); do
            delta=$(($(pf_sent_count "$rcpt") - before))
            ((delta >= sent)) && break
            sleep 0.05
        done
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "capture" "$c" "n/a" "$delta" "$out" "$capture" >>"$results"
        say "  $c: $(case_summary "$out"), Postfix delivered $delta, $(python3 -c '
import json, sys
j = json.loads(sys.argv[1])
print("%d connection(s), %d with the server 20 ms or more between two data segments" % (j.get("conns", 0), len(j.get("stalls", []))))' "$capture")"
    done
fi

report_rc=0
cmdline="bench/run.sh${1:+ $1}"
for v in BENCH_BUDGET BENCH_RTT_MS BENCH_CASES BENCH_REPEAT BENCH_SINK BENCH_POSTFIX BENCH_PF_N BENCH_PF_BUDGET BENCH_PF_RTTS BENCH_PF_CASES BENCH_CALLGRIND BENCH_SESSION BENCH_SESSION_LIMIT BENCH_SESSION_N BENCH_SESSION_CASES; do
    [[ -n ${!v:-} ]] && cmdline="$v=\"${!v}\" $cmdline"
done
python3 "$bench/report.py" "$results" "$bench/results.md" --n "$N" --budget "$BUDGET" --rtt-ms "$RTT_MS" \
    --repeat "$REPEAT" --instr "$instr" --measured-rtt "$sink_measured, proxy set to ${sink_delay} ms each way" --ext-info "$ext_info" \
    --php-flags "php -n -d extension=ctype -d extension=iconv -d extension=mbstring -d extension=target/release/libsmtp.so" \
    --command "$cmdline" --pf-n "$PF_N" --pf-budget "$PF_BUDGET" --pf-rtts "${pf_rtts[*]:-}" \
    --pf-version "${pf_version:-}" --session-info "$session_info" || report_rc=$?
rc=0
case $report_rc in
0) say "wrote bench/results.md" ;;
3) say "wrote bench/results.md (with FAILED cases)"; rc=1 ;;
*) say "bench/report.py failed: bench/results.md was not written"; rc=1 ;;
esac
((sane)) || rc=1
exit $rc
