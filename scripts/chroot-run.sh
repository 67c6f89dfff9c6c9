#!/usr/bin/env bash
# Run a command inside a Debian root directory (chroot), with its mounts made and undone here.
#
#   scripts/chroot-run.sh [-b SRC[:DST]]... [-e NAME=VALUE]... [-w DIR] ROOT COMMAND [ARG...]
#
#   -b SRC[:DST]   bind-mount the host's SRC at DST inside the root (DST defaults to SRC)
#   -e NAME=VALUE  set an environment variable for COMMAND (the environment is otherwise clean:
#                  HOME=/root, PATH with /root/.cargo/bin, LANG=C.UTF-8, TERM)
#   -w DIR         working directory inside the root (default /)
#
# Mounts /proc, /sys and /dev (with /dev/pts) and the -b directories in a mount namespace of its
# own (unshare --mount): the host never sees them, so they vanish with the namespace even if this
# script is killed with SIGKILL, and deleting the root directory from the host can never reach
# through a bind mount into ~/.cargo. The EXIT trap unmounts them explicitly anyway, after
# stopping whatever COMMAND left running in the root (daemons started by tests), which would
# otherwise keep the namespace alive. The root shares the host's network: servers inside it
# listen on the host's loopback. Needs root (runs itself through sudo otherwise).
#
# Exit status: COMMAND's.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}
die() { printf 'chroot-run: error: %s\n' "$*" >&2; exit 1; }

args=("$@")
binds=() envs=() cwd=/
while getopts b:e:w:h opt; do
    case $opt in
        b) binds+=("$OPTARG") ;;
        e) [[ $OPTARG == [A-Za-z_]*=* ]] || die "-e needs NAME=VALUE, not '$OPTARG'"; envs+=("$OPTARG") ;;
        w) cwd=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
(($# >= 2)) || usage
root=$(realpath -e "$1") || die "no root directory $1"
shift
[[ $root != / && -x $root/bin/sh ]] || die "$root does not look like a Debian root (no /bin/sh)"

# First pass: re-run this script as root in a new mount namespace (private propagation: nothing
# mounted there propagates back to the host).
if [[ ${PHP_SMTP_CHROOT_NS:-} != "$root" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "needs root (or sudo) for chroot and mount"
        exec sudo -- env PHP_SMTP_CHROOT_NS="$root" unshare --mount --propagation private -- "$0" "${args[@]}"
    fi
    exec env PHP_SMTP_CHROOT_NS="$root" unshare --mount --propagation private -- "$0" "${args[@]}"
fi

mounted=()
my_ns=$(readlink /proc/self/ns/mnt)

# Processes of this namespace whose root directory is the chroot: what COMMAND left behind.
# shellcheck disable=SC2317,SC2329  # called from cleanup (the EXIT trap)
leftovers() {
    local p pid r
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ $pid != "$$" ]] || continue
        [[ $(readlink "$p/ns/mnt" 2>/dev/null) == "$my_ns" ]] || continue
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [[ $r == "$root" || $r == "$root"/* ]] && echo "$pid"
    done
    return 0
}

# shellcheck disable=SC2317,SC2329  # called by the EXIT trap
cleanup() {
    local rc=$? pids i
    trap - EXIT INT TERM
    mapfile -t pids < <(leftovers)
    if ((${#pids[@]})); then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        for _ in $(seq 30); do
            mapfile -t pids < <(leftovers)
            ((${#pids[@]})) || break
            sleep 0.1
        done
        ((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -R "${mounted[i]}" 2>/dev/null || umount -R -l "${mounted[i]}" 2>/dev/null \
            || printf 'chroot-run: warning: could not unmount %s\n' "${mounted[i]}" >&2
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# mnt TARGET MOUNT-ARGS...: mount and remember it for the cleanup.
mnt() {
    local target=$1
    shift
    mount "$@" "$target" || die "mount $* $target failed"
    mounted+=("$target")
}

mkdir -p "$root/proc" "$root/sys" "$root/dev"
mnt "$root/proc" -t proc proc
mnt "$root/sys" --rbind /sys
mnt "$root/dev" --rbind /dev
for b in "${binds[@]}"; do
    src=${b%%:*}
    dst=${b#*:}
    [[ $b == *:* ]] || dst=$src
    src=$(realpath -e "$src") || die "bind source $src does not exist"
    [[ $dst == /* ]] || die "bind target $dst must be an absolute path"
    if [[ -d $src ]]; then
        mkdir -p "$root$dst"
    else
        mkdir -p "$(dirname "$root$dst")"
        [[ -e $root$dst ]] || : >"$root$dst"
    fi
    mnt "$root$dst" --bind "$src"
done

# Name resolution as on the host: apt inside the root reaches the same archive, and the host
# name (mmdebstrap copied /etc/hostname) resolves as it does here.
for f in resolv.conf hosts; do
    if [[ -r /etc/$f ]]; then
        rm -f "$root/etc/$f"
        cat "/etc/$f" >"$root/etc/$f"
    fi
done

# In the background with `wait`, so that a TERM (or Ctrl-C) runs the trap at once instead of
# after COMMAND ends (a daemon would never end); <&0 keeps the terminal as its input.
rc=0
# shellcheck disable=SC2016  # $1 and $@ belong to the inner sh
env -i HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "${envs[@]}" \
    chroot "$root" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "$@" <&0 &
wait "$!" || rc=$?
exit "$rc"
