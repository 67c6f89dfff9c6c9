#!/usr/bin/env bash
# A thread-safe (ZTS) PHP with the embed SAPI, built from Debian's own PHP source package,
# cached, and a way to run commands against it.
#
#   scripts/zts.sh build          build it unless already cached (prints nothing else)
#   scripts/zts.sh path           print its prefix: PREFIX/bin/php, PREFIX/bin/php-config,
#                                 PREFIX/lib/php/libphp.so (Debian's layout), headers as
#                                 `php-config --includes` says
#   scripts/zts.sh run CMD [ARG...]
#                                 CMD with PHP/PHP_CONFIG naming the ZTS PHP, its bin first in
#                                 PATH and CARGO_TARGET_DIR=target/zts (builds it first)
#
# Debian has no ZTS PHP, so this takes `apt-get source phpX.Y` (the PHP this machine's Debian
# ships: php8.2 on Debian 12, php8.4 on Debian 13; PHP_SMTP_ZTS_SOURCE overrides), with
# Debian's patches applied by dpkg-source, and runs PHP's own configure with --enable-zts
# --enable-embed --disable-zend-signals (as FrankenPHP builds it), the CLI, and only the
# extensions the phpt suite uses (see FLAGS), with `make -j2`: not debian/rules, which builds
# every SAPI and extension. It is built on this machine with what building the extension needs
# already (a C compiler, make, autoconf, dpkg-dev); no -dev library is required. The source is
# fetched with apt state of its own (deb-src lines for the suites apt uses here), so the
# system's apt configuration is left as it is. The archive mirror used here serves php8.2's
# source files but answers 404 for php8.4's, 8.5's and 8.6's: hence Debian 12 / PHP 8.2.
#
# Cache: $PHP_SMTP_CACHE/zts (default ~/.cache/php-smtp/zts). A build lands in
# zts/<source package>-<Debian version>-<hash of FLAGS>; it is made under zts/tmp and renamed
# into place only when complete, so a half-made build is never used.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
# shellcheck source=scripts/root-lib.sh
. scripts/root-lib.sh

say() { printf 'zts: %s\n' "$*" >&2; }
die() { printf 'zts: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 2; }

# Everything the phpt suite and the threaded host test use, nothing more: posix and pcntl
# (fork tests), mbstring without its regex library (one test), ctype/filter/tokenizer (cheap,
# what scripts expect). opcache off: no test needs it and it doubles the build.
FLAGS=(--enable-zts --enable-embed=shared --disable-zend-signals --disable-all --enable-cli
    --disable-cgi --disable-phpdbg --disable-opcache --without-pear
    --enable-posix --enable-pcntl --enable-mbstring --disable-mbregex --enable-ctype
    --enable-filter --enable-tokenizer)

cache=$(root_cache_dir)/zts
mkdir -p "$cache"
flags_hash=$(printf '%s\n' "${FLAGS[@]}" | sha256sum | cut -c1-12)

# php8.2 on Debian 12, php8.4 on Debian 13.
source_package() {
    local codename
    if [[ -n ${PHP_SMTP_ZTS_SOURCE:-} ]]; then
        echo "$PHP_SMTP_ZTS_SOURCE"
        return
    fi
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    case $codename in
        bookworm) echo php8.2 ;;
        trixie) echo php8.4 ;;
        *) die "no known PHP source package for this system; set PHP_SMTP_ZTS_SOURCE (e.g. php8.2)" ;;
    esac
}

# The newest complete build for FLAGS, if any.
built_prefix() {
    local d
    d=$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name "$(source_package)-*-$flags_hash" 2>/dev/null | sort -V | tail -n 1)
    [[ -n $d && -x $d/bin/php && -f $d/.php-smtp-zts ]] || return 1
    echo "$d"
}

build() {
    local tmp pkg ver name prefix started=$SECONDS codename apt v
    exec 9>"$cache/build.lock"
    flock 9
    ! built_prefix >/dev/null || return 0
    pkg=$(source_package)
    tmp=$cache/tmp
    rm -rf --one-file-system "$tmp"
    mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/archives/partial" "$tmp/src"
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    # apt state of its own: deb-src lines for this release's suites, lists under $tmp.
    root_mirrors "$codename" | sed 's/^deb /deb-src /' >"$tmp/apt/sources.list"
    apt=(-o "Dir::Etc::SourceList=$tmp/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$tmp/apt/lists" -o "Dir::Cache=$tmp/apt" -o APT::Sandbox::User=root)
    say "fetching Debian's $pkg source"
    apt-get "${apt[@]}" -qq update || die "apt-get update (deb-src $codename) failed: is the Debian archive reachable?"
    # Newest first; a mirror may list a version whose files it does not serve (404).
    ver=
    for v in $(apt-cache "${apt[@]}" showsrc "$pkg" | sed -n 's/^Version: //p' | sort -V -r -u); do
        if (cd "$tmp/src" && apt-get "${apt[@]}" -qq source --download-only "$pkg=$v") >"$tmp/fetch.log" 2>&1; then
            ver=$v
            break
        fi
        say "$pkg $v: $(grep -m1 -o '[0-9]\{3\} *[A-Za-z ]*$' "$tmp/fetch.log" || echo 'not fetched'), trying an older one"
        rm -f "$tmp"/src/*
    done
    [[ -n $ver ]] || die "apt-get source $pkg failed for every version the archive lists ($tmp/fetch.log)"
    (cd "$tmp/src" && dpkg-source -q -x ./*.dsc php) >"$tmp/dpkg-source.log" 2>&1 || die "dpkg-source -x failed ($tmp/dpkg-source.log)"
    name=$pkg-${ver//[^A-Za-z0-9.+~-]/_}-$flags_hash
    prefix=$cache/$name
    say "building ZTS PHP from $pkg $ver (buildconf, configure, make -j2: several minutes the first time)"
    (
        cd "$tmp/src/php"
        # Debian's patches touch configure.ac and config.m4 files: regenerate configure as
        # debian/rules does.
        ./buildconf --force >"$tmp/buildconf.log" 2>&1
        ./configure --prefix="$prefix" --with-config-file-path="$prefix/etc" \
            --with-config-file-scan-dir="$prefix/etc/conf.d" "${FLAGS[@]}" >"$tmp/configure.log" 2>&1
        make -j2 >"$tmp/make.log" 2>&1
        make install INSTALL_ROOT="$tmp/install" >"$tmp/install.log" 2>&1
    ) || die "the build failed; logs in $tmp (buildconf.log, configure.log, make.log, install.log)"
    mkdir -p "$tmp/install$prefix/etc/conf.d"
    "$tmp/install$prefix/bin/php" -n -r 'exit(PHP_ZTS ? 0 : 1);' || die "the built PHP is not thread-safe"
    printf 'debian-source=%s %s\nflags=%s\nbuilt=%s\nseconds=%s\n' "$pkg" "$ver" "${FLAGS[*]}" \
        "$(date -u +%FT%TZ)" "$((SECONDS - started))" >"$tmp/install$prefix/.php-smtp-zts"
    rm -rf --one-file-system "$prefix"
    mv "$tmp/install$prefix" "$prefix"
    rm -rf --one-file-system "$tmp"
    say "built $prefix in $((SECONDS - started)) s"
}

(($#)) || usage
cmd=$1
shift
case $cmd in
    path)
        built_prefix || die "no ZTS PHP built yet: scripts/zts.sh build"
        ;;
    build)
        built_prefix >/dev/null || build
        ;;
    run)
        (($#)) || usage
        built_prefix >/dev/null || build
        prefix=$(built_prefix)
        export PHP=$prefix/bin/php PHP_CONFIG=$prefix/bin/php-config PHP_SMTP_ZTS_PREFIX=$prefix
        export PATH=$prefix/bin:$PATH CARGO_TARGET_DIR=$repo/target/zts
        exec "$@"
        ;;
    *) usage ;;
esac
