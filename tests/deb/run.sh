#!/usr/bin/env bash
# Package tests: each .deb the way an admin uses it, in a fresh root of its Debian release with
# no Rust and no build tools.
#
#   tests/deb/run.sh [DEB...]     default: target/debian/php*-smtp_<version>_<arch>.deb
#
# For each package (php8.2-smtp -> Debian 12, php8.4-smtp -> Debian 13, php8.5-smtp -> sid with
# experimental's PHP 8.5):
#   - lintian reports no errors (warnings are shown)
#   - a fresh root: the cached `mmdebstrap --variant=apt` tarball of that release
#     ($PHP_SMTP_CACHE/<codename>-base.tar, made once), unpacked anew for every run
#   - `apt-get install ./php8.x-smtp_*.deb` works and pulls in only PHP (the list is shown)
#   - `php -m` lists smtp; php8.x-fpm installed afterwards gets it enabled too
#   - with smtp.override_mail=1, smtp.host and smtp.port set in the package's
#     /etc/php/8.x/mods-available/smtp.ini, a mail() through real php-fpm arrives at the
#     recording SMTP server (tests/servers/fault_smtp.py on the host's loopback: the root shares
#     the host's network)
#   - smtp-doctor runs and finds no problem
#   - `apt-get remove` disables the module and keeps the ini; `apt-get purge` leaves no file
#     behind (file lists compared), and a second install + purge leaves the system as it was
#
# Last line: "deb: N passed, M failed". Needs root (or sudo), mmdebstrap, lintian, python3,
# cgi-fcgi (libfcgi-bin) and the Debian archive (to make the tarball once, and for apt).
# DEB_TEST_KEEP=1 keeps the roots for inspection.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
# shellcheck source=scripts/root-lib.sh
. scripts/root-lib.sh

# shellcheck source=tests/lib/fresh-root.sh
. tests/lib/fresh-root.sh
fresh_begin deb DEB_TEST_KEEP

if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { fail "needs root (or sudo)"; finish; }
    exec sudo -E -- "$0" "$@"
fi

debs=("$@")
if ((${#debs[@]} == 0)); then
    version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version 2>/dev/null)
    arch=$(dpkg --print-architecture)
    for v in 8.2 8.4 8.5; do
        debs+=("target/debian/php$v-smtp_${version}_$arch.deb")
    done
fi

# in_root COMMAND...: run in the current root, with the package directory at /mnt/deb and the
# downloaded .debs cached across runs (only a download cache: every root starts without them).
in_root() {
    scripts/chroot-run.sh "${root_args[@]}" "$@"
}

# The root's files and symbolic links, except what apt, dpkg and the kernel change by
# themselves (caches, logs, dpkg's status database, /proc, /run, /tmp).
snapshot() {
    in_root find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
        -o -path /var/cache -o -path /var/log -o -path /var/lib/apt -o -path '/var/lib/dpkg/status*' \
        -o -path '/var/lib/dpkg/available*' -o -path '/var/lib/dpkg/lock*' \
        -o -path /var/lib/dpkg/triggers -o -path /var/lib/dpkg/updates -o -path /mnt/deb \) -prune \
        -o -printf '%y %p\n' | sort
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Packages an install may pull in besides PHP's own (php*) and libraries (lib*): the small
# helpers php-common and PHP depend on (psmisc, ucf, tzdata, media-types, sensible-utils; in
# Debian 13 also procps and its linux-sysctl-defaults).
allowed_extra='^(psmisc|ucf|tzdata|media-types|mime-support|sensible-utils|debconf|netbase|readline-common|procps|linux-sysctl-defaults)$'
# Never: a compiler, a build tool or a Rust toolchain.
build_tools='(^|-)(rustc|cargo|gcc|g\+\+|cpp|clang|llvm|binutils|make|dpkg-dev|build-essential)(-|$)|-dev$'

test_deb() {
    local deb=$1 pkg v codename tar extra out smtp_port fpm_port rec fpm_pid
    pkg=$(dpkg-deb -f "$deb" Package)
    v=${pkg#php}
    v=${v%-smtp}
    case $v in
        8.2) codename=bookworm ;;
        8.4) codename=trixie ;;
        8.5) codename=sid ;;
        *) fail "$deb: no Debian release known for PHP $v"; return ;;
    esac
    echo "--- $pkg ($(basename "$deb")) on $(root_distro "$codename") ($codename)"

    check "$pkg: lintian reports no errors" lintian --fail-on error --no-tag-display-limit "$deb"
    lintian --fail-on none --color never "$deb" 2>/dev/null | sed 's/^/     lintian: /'

    if ! tar=$(base_tarball "$codename"); then
        fail "$pkg: cannot make a fresh $codename root with mmdebstrap (is the Debian archive reachable?)"
        return
    fi
    fresh_root "$codename" || { fail "$pkg: a fresh root directory in $cache"; return; }
    tar -C "$root" --numeric-owner -xpf "$tar" || { fail "$pkg: unpack $tar"; return; }
    archives=$cache/$codename-archives
    mkdir -p "$archives/partial"
    # One run at a time uses the download cache (apt locks it; another worktree's run waits).
    exec 8>"$archives.lock"
    flock 8
    root_args=(-b "$(realpath "$(dirname "$deb")"):/mnt/deb" -b "$archives:/var/cache/apt/archives"
        -e DEBIAN_FRONTEND=noninteractive "$root")
    local name
    name=$(basename "$deb")

    if ! out=$(in_root apt-get -q update 2>&1); then
        fail "$pkg: apt-get update in the fresh root"
        printf '%s\n' "$out" | tail -n 10
        return
    fi
    check "$pkg: the fresh root has no PHP, Rust or C compiler" \
        in_root sh -c '! command -v php && ! command -v cargo && ! command -v rustc && ! command -v cc && ! command -v gcc'

    # --- install -------------------------------------------------------------------------------
    # What PHP's CLI alone pulls in is not this package's doing: sid's php-common Recommends
    # "cron | ... | systemd-sysv", and cron an MTA (Debian 12 and 13 pull in none of that).
    local baseline
    baseline=$(in_root apt-get -s -q -y install "php$v-cli" 2>/dev/null | sed -n 's/^Inst \([^ ]*\) .*/\1/p' | sort -u)
    if ! out=$(in_root apt-get -q -y install "/mnt/deb/$name" 2>&1); then
        fail "$pkg: apt-get install ./$name"
        printf '%s\n' "$out" | tail -n 20
        return
    fi
    ok "$pkg: apt-get install ./$name"
    local pulled=()
    mapfile -t pulled < <(printf '%s\n' "$out" | sed -n 's/^Setting up \([^ :]*\)\(:[a-z0-9]*\)\? (.*/\1/p' | sort -u)
    echo "     pulled in (${#pulled[@]}): ${pulled[*]}"
    extra=$(printf '%s\n' "${pulled[@]}" | grep -v -x "$pkg" | grep -v -E '^(php|lib)' | grep -v -E "$allowed_extra" |
        grep -v -x -F -f <(printf '%s\n' "$baseline" | grep -v -E "$build_tools" | grep .))
    local php_own
    php_own=$(printf '%s\n' "${pulled[@]}" | grep -v -E '^(php|lib)' | grep -v -E "$allowed_extra" |
        grep -x -F -f <(printf '%s\n' "$baseline" | grep .) | tr '\n' ' ')
    [[ -z $php_own ]] || echo "     pulled in by php$v-cli itself, not counted: $php_own"
    local tools
    tools=$(printf '%s\n' "${pulled[@]}" | grep -E "$build_tools")
    check "$pkg: pulled in only PHP (php*, libraries, php-common's helpers, what php$v-cli alone pulls in), php$v-cli among it" \
        test -z "$extra$tools" -a "$(printf '%s\n' "${pulled[@]}" | grep -c -x "php$v-cli")" -eq 1
    [[ -z $extra$tools ]] || echo "     not PHP: $extra $tools"

    check "$pkg: php -m lists smtp" in_root sh -c "php$v -m | grep -x smtp"
    check "$pkg: enabled for the CLI as /etc/php/$v/cli/conf.d/20-smtp.ini -> mods-available" \
        in_root sh -c "test \"\$(readlink /etc/php/$v/cli/conf.d/20-smtp.ini)\" = /etc/php/$v/mods-available/smtp.ini"

    # --- mail() through php-fpm ----------------------------------------------------------------
    if ! out=$(in_root apt-get -q -y install --no-install-recommends "php$v-fpm" 2>&1); then
        fail "$pkg: apt-get install php$v-fpm"
        printf '%s\n' "$out" | tail -n 20
    else
        check "$pkg: php$v-fpm installed afterwards has smtp enabled" \
            in_root test -L "/etc/php/$v/fpm/conf.d/20-smtp.ini"
    fi

    rec=$work/rec-$v
    python3 tests/servers/fault_smtp.py --port 0 --record "$rec" --lifetime 300 \
        >"$work/smtp-$v.out" 2>"$work/smtp-$v.err" &
    pids+=($!)
    for _ in $(seq 100); do grep -q '^READY ' "$work/smtp-$v.out" && break; sleep 0.05; done
    smtp_port=$(awk '/^READY/ { print $2 }' "$work/smtp-$v.out")
    [[ -n $smtp_port ]] || { fail "$pkg: fault_smtp.py did not start: $(cat "$work/smtp-$v.err")"; return; }

    # The admin's way: the settings in the package's ini.
    in_root sed -i -e "s/^smtp.override_mail *=.*/smtp.override_mail = 1/" \
        -e "s/^smtp.host *=.*/smtp.host = 127.0.0.1/" -e "s/^smtp.port *=.*/smtp.port = $smtp_port/" \
        "/etc/php/$v/mods-available/smtp.ini"
    check "$pkg: smtp.override_mail=1 set in mods-available/smtp.ini" \
        in_root sh -c "php$v -r 'exit(ini_get(\"smtp.override_mail\") === \"1\" ? 0 : 1);'"

    fpm_port=$(free_port)
    cat >"$root/tmp/fpm.conf" <<CONF
[global]
error_log = /tmp/fpm.log
daemonize = no
[www]
listen = 127.0.0.1:$fpm_port
pm = static
pm.max_children = 1
catch_workers_output = yes
CONF
    cp tests/fpm/send.php "$root/tmp/send.php"
    # Not through in_root: $! must be chroot-run.sh itself, whose TERM trap stops php-fpm.
    scripts/chroot-run.sh "${root_args[@]}" "/usr/sbin/php-fpm$v" -y /tmp/fpm.conf -R -F \
        >"$work/fpm-$v.out" 2>&1 &
    fpm_pid=$!
    pids+=("$fpm_pid")
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $fpm_port), 0.2)" 2>/dev/null && break
        sleep 0.1
    done
    local f0=$failed
    out=$(SCRIPT_FILENAME=/tmp/send.php REQUEST_METHOD=GET QUERY_STRING=deb-$v \
        cgi-fcgi -bind -connect "127.0.0.1:$fpm_port" 2>&1 | tr -d '\r')
    check "$pkg: mail() through php-fpm$v returns true" grep -q '"ok":true' <<<"$out"
    for _ in $(seq 50); do
        [[ -n $(find "$rec" -name '*.eml' 2>/dev/null) ]] && break
        sleep 0.1
    done
    # shellcheck disable=SC2016  # $1 is the inner sh's
    check "$pkg: the mail arrived at the SMTP server" \
        sh -c 'cat "$1"/*.eml | grep -a -q "^Subject: fpm request $2"' sh "$rec" "deb-$v"
    if ((failed > f0)); then
        printf '     fpm answered: %s\n' "$(tail -n 3 <<<"$out")"
        sed 's/^/     fpm: /' "$root/tmp/fpm.log" 2>/dev/null | tail -n 10
    fi
    kill "$fpm_pid" 2>/dev/null
    wait "$fpm_pid" 2>/dev/null

    # --- smtp-doctor ---------------------------------------------------------------------------
    out=$(in_root smtp-doctor --from=wiki@example.org 2>&1)
    local rc=$?
    printf '%s\n' "$out" | sed 's/^/     doctor: /'
    check "$pkg: smtp-doctor runs and finds no problem (exit $rc)" \
        test "$rc" -eq 0 -a "$(grep -c -x 'No problem found.' <<<"$out")" -eq 1

    # --- remove, purge -------------------------------------------------------------------------
    check "$pkg: apt-get remove" in_root apt-get -q -y remove "$pkg"
    check "$pkg: after remove, php -m no longer lists smtp and the ini (a conffile) stays" \
        in_root sh -c "! php$v -m | grep -x smtp && test -f /etc/php/$v/mods-available/smtp.ini \
            && ! test -e /etc/php/$v/cli/conf.d/20-smtp.ini && ! test -e /etc/php/$v/fpm/conf.d/20-smtp.ini"
    in_root apt-get -q -y install "/mnt/deb/$name" >/dev/null 2>&1
    snapshot >"$work/installed-$v.txt"
    check "$pkg: apt-get purge" in_root apt-get -q -y purge "$pkg"
    snapshot >"$work/purged-$v.txt"
    # Ours: smtp.so, smtp.ini and links to it, phpenmod's state files (.../smtp), smtp-doctor,
    # /usr/share/doc/php8.x-smtp, dpkg's php8.x-smtp.* files.
    local ours='(/smtp|/smtp\.(so|ini)|/[0-9]+-smtp\.ini|/smtp-doctor[^/]*|/php[0-9.]+-smtp(\.[a-z0-9]+)?)$'
    check "$pkg: purge leaves no file behind (none of ours is left; purge adds nothing)" \
        sh -c "! grep -E '$ours' '$work/purged-$v.txt' && ! comm -13 '$work/installed-$v.txt' '$work/purged-$v.txt' | grep ."
    echo "     purge removed $(comm -23 "$work/installed-$v.txt" "$work/purged-$v.txt" | wc -l) paths"
    in_root apt-get -q -y install "/mnt/deb/$name" >/dev/null 2>&1
    in_root apt-get -q -y purge "$pkg" >/dev/null 2>&1
    snapshot >"$work/again-$v.txt"
    check "$pkg: a second install + purge leaves the root exactly as before" \
        diff "$work/purged-$v.txt" "$work/again-$v.txt"
}

for deb in "${debs[@]}"; do
    if [[ ! -f $deb ]]; then
        fail "$deb: not built (make deb)"
        continue
    fi
    t0=$SECONDS
    test_deb "$deb"
    exec 8>&-
    echo "     took $((SECONDS - t0)) s"
done
finish
