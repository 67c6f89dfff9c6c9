# shellcheck shell=bash
# Debian roots made with mmdebstrap: where they are cached, which archive they come from, how
# they are made and safely removed. Sourced by scripts/root.sh and tests/deb/run.sh.
#
#   PHP_SMTP_CACHE    cache directory (default ${XDG_CACHE_HOME:-~/.cache}/php-smtp)
#   PHP_SMTP_MIRROR   Debian archive to use (default: the one apt on this machine uses)

root_cache_dir() {
    local d=${PHP_SMTP_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/php-smtp}
    mkdir -p "$d" && realpath "$d"
}

# debian12 / 12 / bookworm -> bookworm; debian13 / 13 / trixie -> trixie; sid -> sid (unstable
# with experimental's PHP 8.5 and 8.6 RC).
root_codename() {
    case $1 in
        debian12 | 12 | bookworm) echo bookworm ;;
        debian13 | 13 | trixie) echo trixie ;;
        sid | unstable) echo sid ;;
        *) printf 'unknown distribution %s (known: debian12, debian13, sid)\n' "$1" >&2; return 1 ;;
    esac
}

root_distro() {
    case $(root_codename "$1") in
        bookworm) echo debian12 ;;
        trixie) echo debian13 ;;
        sid) echo sid ;;
    esac
}

# The Debian archive (and its security archive) apt already uses here, as mmdebstrap mirror
# lines for CODENAME: main, CODENAME-updates and CODENAME-security.
root_mirrors() {
    local codename=$1 host='' main='' security='' VERSION_CODENAME=''
    # shellcheck disable=SC1091
    [[ -r /etc/os-release ]] && . /etc/os-release
    host=${VERSION_CODENAME:-}
    if [[ -n ${PHP_SMTP_MIRROR:-} ]]; then
        main=$PHP_SMTP_MIRROR
    elif [[ -n $host ]] && command -v apt-cache >/dev/null 2>&1; then
        # Lines such as " 500 http://deb.debian.org/debian bookworm/main amd64 Packages".
        main=$(apt-cache policy | awk -v s="$host/main" '$3 == s { print $2; exit }')
        security=$(apt-cache policy | awk -v s="$host-security/main" '$3 == s { print $2; exit }')
    fi
    main=${main:-http://deb.debian.org/debian}
    if [[ $codename == sid ]]; then
        # PHP 8.5 and 8.6 are only in experimental, built against sid (no -updates, -security).
        echo "deb $main sid main"
        echo "deb $main experimental main"
        return
    fi
    echo "deb $main $codename main"
    echo "deb $main $codename-updates main"
    [[ -z $security ]] || echo "deb $security $codename-security main"
}

# Mount points at or below DIR in this mount namespace (deepest first).
root_mounts_under() {
    local dir
    dir=$(realpath -m "$1")
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Undo mounts an interrupted earlier run (or mmdebstrap) left under DIR.
root_unmount_under() {
    local m
    while IFS= read -r m; do
        [[ -n $m ]] || continue
        printf 'root: unmounting %s (left by an interrupted run)\n' "$m" >&2
        umount -R "$m" 2>/dev/null || umount -R -l "$m" 2>/dev/null || true
    done < <(root_mounts_under "$1")
    [[ -z $(root_mounts_under "$1") ]]
}

# Remove a root directory or tarball; refuses while anything is still mounted below it.
root_remove() {
    local dir=$1
    [[ -e $dir || -L $dir ]] || return 0
    if ! root_unmount_under "$dir"; then
        printf 'root: error: %s still has mounts below it; not removing it\n' "$dir" >&2
        return 1
    fi
    # --one-file-system: never descend into a mount, whatever happens.
    rm -rf --one-file-system -- "$dir"
}

# The policy-rc.d every root gets: package scripts must not start daemons in a chroot (they
# would listen on the host's network and outlive the run).
root_policy_hook() {
    # shellcheck disable=SC2016  # $1 is for mmdebstrap's hook shell
    printf '%s' 'mkdir -p "$1/usr/sbin" && printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d" && chmod 755 "$1/usr/sbin/policy-rc.d"'
}

# root_mmdebstrap CODENAME TARGET [MMDEBSTRAP-OPTIONS...]: make a root (a directory, or a
# tarball when TARGET ends in .tar) with --variant=apt, in a private mount namespace so none of
# mmdebstrap's mounts can outlive it. mmdebstrap's own policy-rc.d is deleted when it is done:
# ours is written before anything is installed and stays.
root_mmdebstrap() {
    local codename=$1 target=$2 mirrors=()
    shift 2
    command -v mmdebstrap >/dev/null 2>&1 || {
        printf 'root: error: mmdebstrap is not installed (scripts/setup.sh installs it)\n' >&2
        return 1
    }
    mapfile -t mirrors < <(root_mirrors "$codename")
    # The mirror's experimental Release file is often past its Valid-Until date; the option
    # stays in the root's apt configuration so later installs accept it too.
    [[ $codename != sid ]] || set -- --aptopt='Acquire::Check-Valid-Until "false"' "$@"
    printf 'root: mmdebstrap %s from %s\n' "$codename" "${mirrors[0]#deb }" >&2
    unshare --mount --propagation private -- mmdebstrap --quiet --variant=apt \
        --skip=chroot/policy-rc.d --setup-hook="$(root_policy_hook)" "$@" "$codename" "$target" "${mirrors[@]}"
}
