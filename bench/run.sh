#!/usr/bin/env bash
# php-smtp benchmark: the extension against PHP's SMTP mailers and a raw pipelined client.
#
#   bench/run.sh [N]        N messages per case (default 2000), each case capped at
#                           BENCH_BUDGET seconds (default 5); msgs/s is from what was sent.
#
# Environment: BENCH_BUDGET (s, default 5), BENCH_RTT_MS (default 2: the proxy delays each
# direction by half), BENCH_CASES (space-separated subset), BENCH_REPEAT (default 3: loopback
# cases that finish in under 1 s are run that many times and the median run is reported),
# PHP (default php).
#
# Phases, all in one run:
#   1. sanity: every case sends 3 mails to an smtp-sink that dumps each to a file, directly and
#      through the delay proxy; each case must have delivered all 6 (subject and envelope checked).
#   2. loopback: every case against smtp-sink directly (-c counters, no dump).
#   3. rtt: every case through bench/delay_proxy.py in front of the same kind of sink.
#   4. callgrind (if valgrind is installed, BENCH_CALLGRIND=0 skips it): user-space
#      instructions per message of ext-mail, ext-smtp_send and raw-pipelined, which unlike
#      msgs/s on loopback does not depend on the machine's scheduling.
# Each case is its own php process (peak memory and max RSS are per case). After each case,
# smtp-sink's own message counter must have grown by what the client reported as sent.
# Prints the table and writes bench/results.md. Exits 1 if any case failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
bench=$root/bench

N=${1:-2000}
BUDGET=${BENCH_BUDGET:-5}
RTT_MS=${BENCH_RTT_MS:-2}
PHP=${PHP:-php}
ALL_CASES="ext-mail ext-smtp_send ext-smtp_send-nopool pear-mediawiki pear-persist phpmailer-keepalive symfony-mailer raw-pipelined"
CASES=${BENCH_CASES:-$ALL_CASES}
REPEAT=${BENCH_REPEAT:-3}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$N'"
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
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
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

# start_proxy UPSTREAM_PORT [ONE_WAY_DELAY_MS]: sets proxy_port, proxy_pid.
start_proxy() {
    local out=$work/proxy.$1.$RANDOM delay=${2:-$(python3 -c "print($RTT_MS / 2)")}
    python3 "$bench/delay_proxy.py" --listen 127.0.0.1:0 --upstream "127.0.0.1:$1" \
        --delay-ms "$delay" --max-seconds 900 >"$out" 2>&1 &
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

# start_calibrated_proxy UPSTREAM_PORT: like start_proxy, but asyncio's timers overshoot
# (epoll waits in whole ms, timer slack, Python's own time), so the measured NOOP round trip is
# compared with RTT_MS and the per-direction delay corrected, up to 4 tries.
# Sets proxy_port and measured (text).
start_calibrated_proxy() {
    local delay m try
    delay=$(python3 -c "print($RTT_MS / 2)")
    for try in 1 2 3 4; do
        start_proxy "$1" "$delay"
        proxy_delay=$delay
        m=$(python3 "$bench/delay_proxy.py" --probe "127.0.0.1:$proxy_port" --count 60)
        measured=$(awk '/^RTT/ {printf "median %.2f ms (min %.2f, max %.2f)", $2, $3, $4}' <<<"$m")
        read -r delay ok < <(python3 -c "
import sys
med = float(sys.argv[1].split()[1]); want = $RTT_MS; d = $delay
ok = abs(med - want) <= 0.04 * want
print(max(0.0, round(d - (med - want) / 2, 3)), int(ok))" "$m")
        say "proxy: ${proxy_delay} ms each way gives a NOOP round trip of $measured"
        ((ok)) && return 0
        ((try == 4)) && return 0
        kill "$proxy_pid" 2>/dev/null || true
        wait "$proxy_pid" 2>/dev/null || true
    done
}

# run_case CASE N PORT: runs one php process; leaves its JSON in $work/out, rss in $work/rss.
run_case() {
    local c=$1 n=$2 port=$3 extra=()
    case $c in
    ext-mail) extra=(-d smtp.override_mail=1) ;;
    ext-smtp_send-nopool) extra=(-d smtp.pool=0) ;;
    esac
    rm -f "$work/rss"
    local rc=0
    "${time_cmd[@]}" "$PHP" "${php_flags[@]}" \
        -d smtp.host=127.0.0.1 -d "smtp.port=$port" -d smtp.idhost=example.org -d smtp.localhost=localhost \
        "${extra[@]}" "$bench/bench.php" "$c" "$n" "$BUDGET" 127.0.0.1 "$port" \
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

# ---------------------------------------------------------------- 1. sanity
say "sanity: 3 mails per case to a dumping smtp-sink, directly and through the proxy"
dump=$work/dump
mkdir "$dump"
[[ ${#sink_user[@]} -gt 0 ]] && chown nobody "$dump"
start_sink "$work/sink-dump.log" -d "$dump/%H%M%S."
dump_port=$sink_port
start_proxy "$dump_port"
dump_proxy_port=$proxy_port
sane=1
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
results=$work/results.tsv
: >"$results"
start_sink "$work/sink-loopback.log" -c
loop_port=$sink_port
loop_log=$work/sink-loopback.log
start_sink "$work/sink-rtt.log" -c
rtt_sink_log=$work/sink-rtt.log
start_calibrated_proxy "$sink_port"
rtt_port=$proxy_port
say "proxy on 127.0.0.1:$rtt_port: NOOP round trip $measured"

for phase in loopback rtt; do
    if [[ $phase == loopback ]]; then port=$loop_port log=$loop_log; else port=$rtt_port log=$rtt_sink_log; fi
    say "$phase: N=$N, budget ${BUDGET}s per case"
    for c in $CASES; do
        : >"$work/runs"
        for run in $(seq "$REPEAT"); do
            before=$(sink_count "$log")
            run_case "$c" "$N" "$port"
            out=$(tail -n1 "$work/out" 2>/dev/null || true)
            [[ -n $out ]] || out='{}'
            sent=$(php -n -r '$j = json_decode($argv[1], true); echo (int)($j["sent"] ?? 0);' "$out")
            delta=0
            for _ in $(seq 40); do
                delta=$(($(sink_count "$log") - before))
                ((delta >= sent)) && break
                sleep 0.025
            done
            rss=n/a
            [[ -s $work/rss ]] && rss=$(tail -n1 "$work/rss" | tr -dc 0-9)
            printf '%s\t%s\t%s\t%s\t%s\n' "$phase" "$c" "${rss:-n/a}" "$delta" "$out" >>"$work/runs"
            say "  $c: $(php -n -r '$j = json_decode($argv[1], true); printf("%d sent, %d failed, %.3f s", $j["sent"] ?? 0, $j["failed"] ?? 0, $j["seconds"] ?? 0);' "$out"), smtp-sink counted $delta"
            # Only short runs are repeated (loopback, fast cases): a run that used a good part
            # of the budget already averages over enough time.
            fast=$(php -n -r '$j = json_decode($argv[1], true); echo (($j["seconds"] ?? 99) < 1.0 && ($j["failed"] ?? 1) == 0) ? 1 : 0;' "$out")
            [[ $phase == loopback && $fast == 1 && $delta == "$sent" ]] || break
        done
        python3 "$bench/report.py" --pick "$work/runs" >>"$results"
    done
done

# ---------------------------------------------------------------- 4. instructions per message
# msgs/s on loopback depends on how fast this machine switches between php and smtp-sink;
# callgrind's instruction count does not: (instructions for 600 messages - for 100) / 500.
instr=$work/instr.tsv
: >"$instr"
if [[ ${BENCH_CALLGRIND:-1} != 0 ]] && command -v valgrind >/dev/null; then
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
                sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -n1)
            counts+=("${total:-0}")
        done
        if [[ ${counts[0]} != 0 && ${counts[1]} != 0 ]]; then
            per=$(((counts[1] - counts[0]) / 500))
            printf '%s\t%s\n' "$c" "$per" >>"$instr"
            say "  $c: $per instructions per message"
        fi
    done
fi

rc=0
python3 "$bench/report.py" "$results" "$bench/results.md" --n "$N" --budget "$BUDGET" --rtt-ms "$RTT_MS" \
    --repeat "$REPEAT" --instr "$instr" --measured-rtt "$measured, proxy set to ${proxy_delay} ms each way" --ext-info "$ext_info" \
    --php-flags "php -n -d extension=ctype -d extension=iconv -d extension=mbstring -d extension=target/release/libsmtp.so" || rc=$?
((sane)) || rc=1
say "wrote bench/results.md"
exit $rc
