#!/usr/bin/env bash
# Build and test php-smtp on another Debian release: a development root made with mmdebstrap,
# cached, reused, with this repository and the host's Rust toolchain mounted in it.
#
#   scripts/root.sh DIST [COMMAND [ARG...]]     run COMMAND in the repository inside the root
#                                               (default: an interactive shell)
#   scripts/root.sh --rebuild DIST              make the root again from scratch
#   scripts/root.sh --remove DIST               delete it
#   scripts/root.sh --path DIST                 print where it is
#
#   DIST: debian13 (trixie: PHP 8.4, MediaWiki 1.43), debian12 (bookworm: PHP 8.2, 1.39) or
#         sid (unstable with PHP 8.5 and PHP 8.6 RC from experimental, MediaWiki 1.43; inside,
#         PHP_VERSION=8.6 picks the RC, default 8.5)
#
# e.g.  scripts/root.sh debian13 scripts/test.sh debian13     the whole suite on Debian 13
#       scripts/root.sh debian13 make build
#
# The root is $PHP_SMTP_CACHE/<codename>-root (default ~/.cache/php-smtp/trixie-root). The
# first time it is made with `mmdebstrap --variant=apt` from the Debian archive apt uses here,
# then scripts/setup.sh installs what building and testing need, inside it; it is only renamed
# into place once that worked, so a half-made root is never reused. Inside, the repository is at
# the same path as here, ~/.cargo and ~/.rustup are the host's (no toolchain is downloaded), and
# CARGO_TARGET_DIR is target/<DIST> (sid: target/sid-php8.5 or target/sid-php8.6, set by
# scripts/php-env.sh once the PHP is known) so the builds never clobber each other. Mounts live in a
# mount namespace of their own (scripts/chroot-run.sh) and are undone whatever happens.
# Needs root (or sudo), mmdebstrap, and the Debian archive reachable the first time.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
# shellcheck source=scripts/root-lib.sh
. scripts/root-lib.sh

say() { printf 'root: %s\n' "$*" >&2; }
die() { printf 'root: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 2; }

action=run
case ${1:-} in
    --rebuild) action=rebuild; shift ;;
    --remove) action=remove; shift ;;
    --path) action=path; shift ;;
    -h | --help | '') usage ;;
esac
(($#)) || usage
codename=$(root_codename "$1") || exit 2
dist=$(root_distro "$codename")
shift

if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "needs root (or sudo): mmdebstrap, chroot and mount"
    again=("$dist" "$@")
    [[ $action == run ]] || again=("--$action" "${again[@]}")
    exec sudo -E -- "$0" "${again[@]}"
fi

cache=$(root_cache_dir)
root=$cache/$codename-root
stamp=$root/.php-smtp-root
cargo_home=${CARGO_HOME:-${HOME:-/root}/.cargo}
rustup_home=${RUSTUP_HOME:-${HOME:-/root}/.rustup}
[[ -d $cargo_home ]] || die "no Rust toolchain: $cargo_home missing"
[[ -d $rustup_home ]] || die "no Rust toolchain: $rustup_home missing"

case $action in
    path) echo "$root"; exit 0 ;;
    remove) root_remove "$root" && root_remove "$root.new" && say "removed $root"; exit ;;
esac

# Variables passed into the root (PHP, PHP_CONFIG and PHP_VERSION are not: they name the host's
# PHP; inside, the root's own is found the same way).
passenv=()
for v in PHPT_JOBS FPM_REQUESTS MW_TEST_KEEP MW_TEST_VERBOSE RUST_BACKTRACE RUST_LOG \
    CARGO_BUILD_JOBS CARGO_TERM_COLOR PHP_SMTP_TEST_TAG; do
    [[ -z ${!v:-} ]] || passenv+=(-e "$v=${!v}")
done

# in_root DIR COMMAND...: COMMAND in the repository inside the root at DIR.
target=(-e "CARGO_TARGET_DIR=$repo/target/$dist")
[[ $dist != sid ]] || target=(-e "PHP_SMTP_TARGET_PREFIX=$repo/target/sid-php")
chroot_args=(-b "$repo" -b "$cargo_home:/root/.cargo" -b "$rustup_home:/root/.rustup"
    "${target[@]}" -e "PHP_SMTP_IN_ROOT=$dist" "${passenv[@]}" -w "$repo")
in_root() {
    scripts/chroot-run.sh "${chroot_args[@]}" "$@"
}

# One run at a time makes or updates a root (other worktrees share the cache).
exec 9>"$cache/$codename-root.lock"
if ! flock -n 9; then
    say "waiting for another run that is making or updating $root"
    flock 9
fi

if [[ $action == rebuild ]]; then
    root_remove "$root" || die "cannot remove $root"
fi
if [[ ! -f $stamp ]]; then
    started=$SECONDS
    root_remove "$root" || die "cannot remove the incomplete $root"
    root_remove "$root.new" || die "cannot remove $root.new (left by an interrupted run)"
    say "making the $dist root in $root (first time only)"
    # debconf: setup.sh preseeds postfix with debconf-set-selections.
    root_mmdebstrap "$codename" "$root.new" --include=debconf,ca-certificates \
        || die "mmdebstrap $codename failed: cannot make the $dist root (is the Debian archive reachable?)"
    if [[ $dist == sid ]]; then
        for v in 8.5 8.6; do
            in_root "$root.new" env PHP_VERSION=$v scripts/setup.sh \
                || die "scripts/setup.sh failed for PHP $v inside the new $dist root"
        done
    else
        in_root "$root.new" scripts/setup.sh || die "scripts/setup.sh failed inside the new $dist root"
    fi
    date -u +%FT%TZ >"$root.new/.php-smtp-root"
    mv "$root.new" "$root"
    say "made the $dist root in $((SECONDS - started)) s"
fi
exec 9>&-

# exec: a signal to this script then reaches chroot-run.sh, whose trap cleans up.
(($#)) || set -- bash -l
exec scripts/chroot-run.sh "${chroot_args[@]}" "$root" "$@"
