#!/usr/bin/env bash
# Demo: build the extension, start Postfix's smtp-sink on a free loopback port, send one mail
# with mail() and one with smtp_send() (scripts/demo.php), then show what smtp-sink received.
# Exits non-zero unless both mails arrived.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD


say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

scripts/setup.sh

# The distribution's PHP (Debian 12: 8.2, Debian 13: 8.4), or PHP_VERSION / PHP_CONFIG's.
# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh
php_env_resolve || die "no PHP to build against"

say "building the extension for PHP $PHP_VERSION (cargo build --release)"
cargo build --release
ext=${CARGO_TARGET_DIR:-$root/target}/release/libsmtp.so
[[ -f $ext ]] || die "$ext was not built"

work=$(mktemp -d -t php-smtp-demo.XXXXXX)
maildir=$work/mail
mkdir "$maildir"
sink_pid=
cleanup() {
    if [[ -n $sink_pid ]]; then
        kill "$sink_pid" 2>/dev/null || true
        wait "$sink_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# smtp-sink refuses to run as root without -u; it then writes its dump files as that user.
sink_user=()
if [[ $(id -u) -eq 0 ]]; then
    sink_user=(-u nobody)
    chmod 755 "$work"
    chown nobody "$maildir"
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The port is free when we ask but could be taken before smtp-sink binds it: retry a few times.
port=
for _ in 1 2 3; do
    candidate=$(free_port)
    # -d: one file per mail transaction, named by expanding the strftime template plus a
    # random hex suffix. Each file holds the envelope as X-* headers, then the message.
    smtp-sink "${sink_user[@]}" -d "$maildir/%Y%m%d%H%M%S." "127.0.0.1:$candidate" 16 \
        >"$work/smtp-sink.log" 2>&1 &
    sink_pid=$!
    for _ in $(seq 50); do
        if ! kill -0 "$sink_pid" 2>/dev/null; then
            break
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            port=$candidate
            break 2
        fi
        sleep 0.1
    done
    kill "$sink_pid" 2>/dev/null || true
    wait "$sink_pid" 2>/dev/null || true
    sink_pid=
done
if [[ -z $port ]]; then
    cat "$work/smtp-sink.log" >&2 || true
    die "could not start smtp-sink"
fi
say "smtp-sink listening on 127.0.0.1:$port (pid $sink_pid)"

say "running scripts/demo.php"
php_rc=0
"$PHP" -n -d "extension=$ext" \
    -d smtp.host=127.0.0.1 -d "smtp.port=$port" -d smtp.override_mail=1 \
    scripts/demo.php || php_rc=$?

# The extension returns once the server has accepted the message; smtp-sink has written the
# file by then, but give it a moment rather than race it.
messages=()
for _ in $(seq 20); do
    # Oldest first, so the mail() message comes before the smtp_send() one.
    mapfile -t messages < <(find "$maildir" -type f -printf '%T@ %f\n' | sort -n | cut -d' ' -f2-)
    ((${#messages[@]} >= 2)) && break
    sleep 0.1
done

say "smtp-sink received ${#messages[@]} message(s)"
# Each dump file: smtp-sink's envelope record (X-Client-Addr, X-Client-Proto, X-Helo-Args,
# X-Mail-Args = MAIL FROM, one X-Rcpt-Args per RCPT TO, a Received: header), then the message's
# headers and body as the client sent them (dot-unstuffed, LF line ends), then an empty line.
say "each shows the envelope (X-Mail-Args = MAIL FROM, X-Rcpt-Args = RCPT TO), then the message"
for m in "${messages[@]}"; do
    printf '\n----- %s -----\n' "$m"
    cat "$maildir/$m"
done
printf '\n'

missing=()
for subject in 'Hello from mail()' 'Hello from smtp_send()'; do
    if ! grep -qxF "Subject: $subject" "${messages[@]/#/$maildir/}" /dev/null; then
        missing+=("$subject")
    fi
done
if ((${#missing[@]})); then
    say "FAILED: did not arrive: $(printf '"%s" ' "${missing[@]}")"
    exit 1
fi
if ((php_rc != 0)); then
    say "FAILED: scripts/demo.php exited with $php_rc"
    exit 1
fi
say "OK: both mails arrived"
