# shellcheck shell=bash
# What the PHP-FPM tests share: the PHP under test and its php-fpm (scripts/php-env.sh), a work
# directory and the processes started, removed and stopped on exit; the project's servers on
# port 0; one FPM pool of static workers with the extension and the pool's php_admin_value lines;
# a request through FastCGI (cgi-fcgi); the checks and the closing "NAME: N passed, M failed".
# Sourced by run.sh, slots.sh and oauth.sh after `cd` to the repository.

# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh

# fpm_init NAME: the PHP and php-fpm under test, the built extension, $work and the cleanup.
fpm_init() {
    fpm_name=$1
    root=$PWD
    php_env_resolve || exit 1
    ext=${PHP_SMTP_EXT:-${CARGO_TARGET_DIR:-$root/target}/release/libsmtp.so}
    if [[ ! -x $PHP_FPM ]]; then
        echo "FAIL $PHP_FPM not found (install php$PHP_VERSION-fpm: scripts/setup.sh)"
        echo "$fpm_name: 0 passed, 1 failed"
        exit 1
    fi
    work=$(mktemp -d -t "php-smtp-$fpm_name.XXXXXX")
    pids=()
    passed=0 failed=0
    trap fpm_cleanup EXIT
    # A command that fails outside a check ends the script (set -e): say which, so a run
    # under load that dies early is not a silent failure.
    set -E
    trap 'echo "FAIL $fpm_name: line $LINENO failed: $BASH_COMMAND"' ERR
}

fpm_cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}

# fpm_server NAME COMMAND...: start a server that prints "READY <port>" (the project's servers
# do) in the background; sets NAME_port. Its output goes to $work/NAME.out and .err.
fpm_server() {
    local name=$1 port=''
    shift
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pids+=($!)
    for _ in $(seq 150); do
        # The output file may not be there yet (the shell makes it as the server starts): awk
        # fails, and under set -e that must not end the script.
        port=$(awk '/^READY/ {print $2}' "$work/$name.out" 2>/dev/null || true)
        [[ -n $port ]] && break
        sleep 0.1
    done
    if [[ -z $port ]]; then
        echo "FAIL the $name server did not start:"
        cat "$work/$name.err"
        echo "$fpm_name: 0 passed, 1 failed"
        exit 1
    fi
    printf -v "${name}_port" '%s' "$port"
}

# fpm_start CHILDREN [INI-LINE...]: php-fpm with one static pool of CHILDREN workers, the
# extension loaded and each "name = value" as php_admin_value[name], as an administrator sets it.
# FPM_USER=name: the workers run as that user (the master as root, as Debian's php-fpm does).
fpm_start() {
    local children=$1 line
    shift
    fpm_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    {
        printf '[global]\nerror_log = %s\ndaemonize = no\n' "$work/fpm.log"
        printf '[smtp]\nlisten = 127.0.0.1:%s\npm = static\npm.max_children = %s\n' "$fpm_port" "$children"
        printf 'catch_workers_output = yes\n'
        if [[ -n ${FPM_USER:-} ]]; then
            printf 'user = %s\ngroup = %s\n' "$FPM_USER" "$(id -gn "$FPM_USER")"
        fi
        for line in "$@"; do
            printf 'php_admin_value[%s] = %s\n' "${line%% = *}" "${line#* = }"
        done
    } >"$work/fpm.conf"
    # Run as whoever we are (root in CI: -R allows it).
    "$PHP_FPM" -n -d "extension=$ext" -y "$work/fpm.conf" -R -F &
    pids+=($!)
    fpm_wait_listening
}

# fpm_wait_listening: until php-fpm listens on $fpm_port (30 s at most: a loaded machine).
fpm_wait_listening() {
    for _ in $(seq 300); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$fpm_port),0.2)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "FAIL php-fpm did not listen on 127.0.0.1:$fpm_port within 30 s:"
    cat "$work/fpm.log" 2>/dev/null || true
}

# fpm_request N: one request to tests/fpm/send.php (one mail()); prints its JSON line.
fpm_request() {
    SCRIPT_FILENAME=$root/tests/fpm/send.php REQUEST_METHOD=GET QUERY_STRING="$1" \
        cgi-fcgi -bind -connect "127.0.0.1:$fpm_port" 2>&1 | tr -d '\r' | grep '^{' || true
}

# fpm_requests_in_turn N: requests 1..N one after another into $work/responses; then the
# check that every mail() returned true.
fpm_requests_in_turn() {
    local i oks
    : >"$work/responses"
    for i in $(seq "$1"); do
        fpm_request "$i" >>"$work/responses"
    done
    oks=$(grep -c '"ok":true' "$work/responses" || true)
    check "all $1 mail() calls returned true ($oks)" "$oks" -eq "$1"
}

# fpm_requests_parallel N P: requests 1..N, P at a time, into $work/responses; then the checks
# that every mail() returned true and that they finished (a generous "does not hang" bound).
# Sets $took (seconds).
fpm_requests_parallel() {
    local oks t0=$SECONDS
    export -f fpm_request
    export root fpm_port
    seq "$1" | xargs -P "$2" -I{} bash -c 'fpm_request {}' >"$work/responses"
    took=$((SECONDS - t0))
    oks=$(grep -c '"ok":true' "$work/responses" || true)
    check "all $1 mail() calls returned true ($oks)" "$oks" -eq "$1"
    check "the requests finished ($took s for $1, bound 60 s)" "$took" -lt 60
}

# check NAME TEST-ARGS...: one test, passed when `test TEST-ARGS...` is true.
check() {
    local name=$1
    shift
    if test "$@"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

# fpm_recorded EXT: how many files the fault server recorded with that suffix (eml, json).
fpm_recorded() { find "$work/rec" -name "*.$1" 2>/dev/null | wc -l; }

# fpm_wait_recorded N: until the fault server has recorded N messages (5 s at most).
fpm_wait_recorded() {
    for _ in $(seq 50); do
        (($(fpm_recorded json) >= $1)) && break
        sleep 0.1
    done
}

# fpm_distinct_subjects: how many different Subject lines arrived.
fpm_distinct_subjects() {
    cat "$work/rec"/*.eml 2>/dev/null | grep -a '^Subject: ' | sort -u | wc -l || true
}

# fpm_workers FILE: how many worker pids answered the requests in FILE.
fpm_workers() { grep -o '"pid":[0-9]*' "$1" | sort -u | wc -l; }

# fpm_finish [FILE...]: on failure the FPM log and the ends of FILEs; then the closing line.
fpm_finish() {
    local f
    if ((failed)); then
        echo "--- fpm log"
        tail -30 "$work/fpm.log" || true
        for f in "$@"; do
            echo "--- $f"
            tail -20 "$f" || true
        done
    fi
    echo "$fpm_name: $passed passed, $failed failed"
    ((failed == 0))
}
