#!/usr/bin/env bash
# make dist: ready-built binaries of the extension, one .tgz per PHP it is tested on, named and
# laid out as PIE's pre-packaged binaries (download-url-method "pre-packaged-binary"), into
# target/dist/:
#
#   php_smtp-<version>_php<X.Y>-<arch>-linux-glibc-<nts|zts>.tgz
#       smtp.so      the extension (stripped), at the top of the archive, where PIE looks for
#                    <extension-name>.so
#       smtp.ini     extension=smtp, then every smtp.* setting of ini/smtp.ini commented out
#                    with its default and its comment
#       COPYRIGHT    the license (MIT) and the Rust crates linked in, with theirs
#       README       what the archive fits and how to install it by hand
#   SHA256SUMS       sha256sum's format, over the .tgz files
#   LISTING          one line per archive: PHP it was built against, API, NTS/ZTS, glibc floor
#
#   scripts/dist.sh [NAME...]     only these platforms (default: all of PLATFORMS below);
#                                 target/dist/ is made anew each time, with only these
#   scripts/dist.sh --list        the platforms, and whether each can be built here
#
# Each platform is built where its tests run (the host, a cached root, the ZTS build), by the
# same `cargo build --release` into the same target directory, so a build the test parts made
# is reused as it is. The archives are reproducible from the same .so: names sorted, owner 0,
# mode 0644, every mtime the date of packaging/debian/changelog (or SOURCE_DATE_EPOCH), gzip
# without a name or time stamp.
#
# A platform whose build helper is not in this checkout is reported as missing, never skipped
# in silence; the exit status is non-zero if any platform is missing or failed to build.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh

# The platforms: NAME, then how to run a command with that PHP:
#   root DIST [VAR=VALUE...]   in scripts/root.sh's root DIST (here, when this machine is DIST)
#   zts                        scripts/zts.sh run (the thread-safe PHP it builds from Debian's
#                              source of this machine's PHP: 8.2 on Debian 12)
# NAME is what the listing and tests/dist/run.sh call it (the test summary lines' names).
PLATFORMS=(
    "debian12/php8.2 root debian12"
    "debian13/php8.4 root debian13"
    "sid/php8.5 root sid PHP_VERSION=8.5"
    "zts zts"
)

say() { printf 'dist: %s\n' "$*"; }
die() { printf 'dist: error: %s\n' "$*" >&2; exit 1; }

# --- inside a platform's environment: build, check, stage ---------------------------------------
# scripts/dist.sh --stage DIR: build for the PHP found here, check that PHP loads the result,
# and leave DIR/smtp.so (stripped) and DIR/meta (shell assignments) for the host to pack.
stage() {
    local dir=$1 lib so zts debug libc floor
    php_env_resolve || die "no PHP here"
    lib=${CARGO_TARGET_DIR:-$repo/target}/release/libsmtp.so
    say "building for PHP $("$PHP" -n -r 'echo PHP_VERSION;') ($PHP) on $(php_env_distro) into ${lib%/release/*}"
    cargo build --release
    [[ -f $lib ]] || die "$lib was not built"
    mkdir -p "$dir"
    so=$dir/smtp.so
    cp "$lib" "$so"
    # As the Debian package does: debugging symbols and notes out, get_module stays.
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$so"
    chmod 0644 "$so"
    "$PHP" -n -d "extension=$so" -r 'exit(extension_loaded("smtp") ? 0 : 1);' \
        || die "$PHP does not load the extension just built"
    zts=$("$PHP" -n -r 'echo PHP_ZTS ? "zts" : "nts";')
    debug=$("$PHP" -n -r 'echo PHP_DEBUG ? "-debug" : "";')
    libc=glibc
    if ldd --version 2>&1 | grep -qi musl; then libc=musl; fi
    # The newest glibc symbol version the .so needs: the oldest glibc that can load it.
    floor=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
    {
        printf 'php_version=%q\n' "$("$PHP" -n -r 'echo PHP_VERSION;')"
        printf 'php_xy=%q\n' "$PHP_VERSION"
        printf 'php_api=%q\n' "$PHP_API"
        printf 'ts=%q\n' "$zts"
        printf 'debug=%q\n' "$debug"
        printf 'arch=%q\n' "$(uname -m)"
        printf 'libc=%q\n' "$libc"
        printf 'glibc_floor=%q\n' "${floor:-none}"
        printf 'built_on=%q\n' "$(php_env_distro)"
    } >"$dir/meta"
    say "staged $so (PHP $PHP_VERSION $zts, API $PHP_API, glibc >= ${floor:-none})"
}

if [[ ${1:-} == --stage ]]; then
    [[ -n ${2:-} ]] || die "--stage needs a directory"
    stage "$2"
    exit
fi

# --- on the host ---------------------------------------------------------------------------------
here=$(php_env_distro)

# available KIND ARG...: empty when the platform can be built in this checkout, else why not.
available() {
    case $1 in
        root)
            if [[ $2 == "$here" ]]; then
                return 0
            fi
            # root.sh --path fails for a distribution it does not know.
            scripts/root.sh --path "$2" >/dev/null 2>&1 \
                || echo "scripts/root.sh does not know the distribution '$2' in this checkout"
            ;;
        zts)
            [[ -x scripts/zts.sh ]] || echo "scripts/zts.sh (the ZTS PHP build) is not in this checkout"
            ;;
        *) echo "unknown kind '$1' in PLATFORMS" ;;
    esac
}

# run_in KIND ARG... -- COMMAND...: COMMAND with that platform's PHP.
run_in() {
    local kind=$1 dist vars=()
    shift
    case $kind in
        root)
            dist=$1
            shift
            while [[ $1 != -- ]]; do vars+=("$1"); shift; done
            shift
            if [[ $dist == "$here" ]]; then
                # The distribution's PHP, whatever PHP, PHP_CONFIG or PHP_VERSION say here.
                env -u PHP -u PHP_CONFIG -u PHP_VERSION "${vars[@]}" "$@"
            else
                scripts/root.sh "$dist" env "${vars[@]}" "$@"
            fi
            ;;
        zts)
            [[ $1 == -- ]] && shift
            scripts/zts.sh run "$@"
            ;;
    esac
}

list=false
wanted=()
for a in "$@"; do
    case $a in
        --list) list=true ;;
        -*) die "unknown option $a" ;;
        *) wanted+=("$a") ;;
    esac
done

selected=()
for p in "${PLATFORMS[@]}"; do
    read -r name _ <<<"$p"
    if ((${#wanted[@]})); then
        for w in "${wanted[@]}"; do [[ $w == "$name" ]] && selected+=("$p"); done
    else
        selected+=("$p")
    fi
done
if ((${#wanted[@]})) && ((${#selected[@]} != ${#wanted[@]})); then
    die "unknown platform among: ${wanted[*]} (known: $(printf '%s\n' "${PLATFORMS[@]}" | awk '{ print $1 }' | xargs))"
fi

if $list; then
    for p in "${selected[@]}"; do
        read -r name kind args <<<"$p"
        # shellcheck disable=SC2086  # args: words of the table
        why=$(available "$kind" $args)
        printf '%-22s %-40s %s\n' "$name" "$kind $args" "${why:-ok}"
    done
    exit 0
fi

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
[[ -n $version ]] || die "no version in Cargo.toml"
epoch=${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l packaging/debian/changelog -S Timestamp)}
out=$repo/target/dist
staging=$out/.stage
rm -rf "$out"
mkdir -p "$staging"
umask 022

# The files every archive shares, made once.
common=$staging/common
mkdir -p "$common"
{
    echo "; php-smtp $version: the smtp extension. Put this file in the directory PHP scans for"
    echo "; .ini files (php --ini: \"Scan for additional .ini files in\"). Each setting below is"
    echo "; shown with its default, commented out: remove the ';' in front to change it."
    echo "extension=smtp"
    # ini/smtp.ini after its extension= line, its settings commented out.
    sed -n '/^extension=/,$p' ini/smtp.ini | sed -e '1d' -e 's/^\(smtp\.[a-z_]* *=\)/;\1/'
} >"$common/smtp.ini"
grep -q '^smtp\.' "$common/smtp.ini" && die "a setting in the dist smtp.ini is not commented out"
packaging/copyright.sh >"$common/COPYRIGHT" || die "packaging/copyright.sh failed"

missing=() failed=() built=()
for p in "${selected[@]}"; do
    read -r name kind args <<<"$p"
    # shellcheck disable=SC2086  # args: words of the table
    why=$(available "$kind" $args)
    if [[ -n $why ]]; then
        say "$name: MISSING: $why"
        missing+=("$name")
        continue
    fi
    dir=$staging/${name//\//-}
    t0=$SECONDS
    # shellcheck disable=SC2086  # args: words of the table
    if ! run_in "$kind" $args -- scripts/dist.sh --stage "$dir"; then
        say "$name: FAILED to build (see above)"
        failed+=("$name")
        continue
    fi
    # shellcheck disable=SC1091  # written by --stage above
    . "$dir/meta"
    # shellcheck disable=SC2154  # php_xy, arch, libc, debug, ts come from meta
    tgz=php_smtp-${version}_php${php_xy}-${arch}-linux-${libc}${debug}-${ts}.tgz
    pack=$dir/pack
    mkdir -p "$pack"
    cp "$dir/smtp.so" "$common/smtp.ini" "$common/COPYRIGHT" "$pack/"
    # shellcheck disable=SC2154  # php_version, php_api, glibc_floor, built_on come from meta
    cat >"$pack/README" <<EOF
php-smtp $version, the smtp extension of PHP, ready-built.

Fits:    PHP $php_xy (PHP API $php_api), ${ts^^}${debug:+, debug build}, Linux $arch, $libc >= $glibc_floor
Built:   against PHP $php_version of $built_on ($(if [[ $ts == zts ]]; then echo "built thread-safe from Debian's source"; else echo "Debian's own build"; fi))
Files:   smtp.so (the extension), smtp.ini (extension=smtp and every setting with its
         default, commented out), COPYRIGHT

By hand (what PIE and docker-php-ext-enable do):
  cp smtp.so "\$(php -r 'echo ini_get("extension_dir");')/"
  cp smtp.ini <the directory \`php --ini\` names under "Scan for additional .ini files in">/20-smtp.ini
  php --ri smtp

With PIE:    pie install php-smtp/smtp
In Docker:   packaging/docker/ in the source, and the README's "Docker" section.
Settings, MediaWiki, Microsoft 365 / Google OAuth, troubleshooting: the README of the source.
EOF
    chmod 0644 "$pack"/*
    tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode=0644 \
        --format=ustar -C "$pack" -cf - COPYRIGHT README smtp.ini smtp.so | gzip -9n >"$out/$tgz"
    printf '%s  PHP %s (API %s, built against %s on %s)  %s  glibc >= %s\n' "$tgz" "$php_xy" \
        "$php_api" "$php_version" "$built_on" "${ts^^}" "$glibc_floor" >>"$out/LISTING"
    built+=("$name")
    say "$name: $out/$tgz ($((SECONDS - t0)) s)"
done
rm -rf "$staging"

if ((${#built[@]})); then
    (cd "$out" && sha256sum -- *.tgz >SHA256SUMS)
    echo
    cat "$out/LISTING"
    echo
    cat "$out/SHA256SUMS"
fi
for n in "${missing[@]}"; do echo "dist: $n: MISSING (its build helper is not in this checkout)"; done
for n in "${failed[@]}"; do echo "dist: $n: FAILED"; done
echo "dist: ${#built[@]} built, ${#missing[@]} missing, ${#failed[@]} failed"
((${#missing[@]} == 0 && ${#failed[@]} == 0))
