#!/bin/sh
# Install a ready-built php-smtp archive (make dist) into the PHP on PATH, as the Dockerfiles
# here do in a RUN line, and as tests/dist/run.sh runs it in fresh roots:
#
#   install-smtp.sh DIR
#
# DIR holds the archives and their SHA256SUMS (target/dist/ of `make dist`, or the release's
# downloads). The steps:
#   1. pick the archive for this PHP: php_smtp-*_php<X.Y>-<arch>-linux-glibc-<nts|zts>.tgz
#      from PHP_VERSION, PHP_ZTS and the machine (none: stop, naming those there are)
#   2. check its SHA-256 against DIR/SHA256SUMS (no line, or another sum: stop)
#   3. copy smtp.so into PHP's extension_dir (made if missing)
#   4. enable it: docker-php-ext-enable smtp when there is one (the official php images:
#      $PHP_INI_DIR/conf.d/docker-php-ext-smtp.ini), else the archive's smtp.ini as 20-smtp.ini
#      in the directory PHP scans for .ini files (as PIE does where there is no phpenmod)
#   5. the settings: with docker-php-ext-enable, the archive's smtp.ini without its extension=
#      line becomes conf.d/smtp.ini (every setting with its default, commented out), unless
#      an smtp.ini is there already
#   6. check that PHP now loads it (php -m lists smtp), else stop
# Needs: php, sha256sum, tar, gzip (all in the official php images).
set -eu

die() { printf 'install-smtp: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'install-smtp: %s\n' "$*"; }

[ $# -eq 1 ] || die "usage: install-smtp.sh DIR (the archives and SHA256SUMS of make dist)"
dir=$1
[ -f "$dir/SHA256SUMS" ] || die "$dir/SHA256SUMS not found"
command -v php >/dev/null 2>&1 || die "no php on PATH"

# 1. The archive for this PHP.
xy=$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
ts=$(php -r 'echo PHP_ZTS ? "zts" : "nts";')
debug=$(php -r 'echo PHP_DEBUG ? "-debug" : "";')
arch=$(uname -m)
archive=
for f in "$dir"/php_smtp-*_php"$xy"-"$arch"-linux-glibc"$debug"-"$ts".tgz; do
    [ -f "$f" ] || continue
    [ -z "$archive" ] || die "more than one archive for PHP $xy $ts $arch in $dir"
    archive=$f
done
if [ -z "$archive" ]; then
    there=$(find "$dir" -maxdepth 1 -name 'php_smtp-*.tgz' -exec basename {} \; | sort | tr '\n' ' ')
    die "no archive for this PHP ($xy, $ts$debug, $arch, glibc) in $dir; there are: ${there:-none}"
fi
name=${archive##*/}

# 2. Its checksum.
want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$dir/SHA256SUMS")
[ -n "$want" ] || die "$dir/SHA256SUMS has no line for $name"
have=$(sha256sum "$archive" | cut -d ' ' -f 1)
[ "$want" = "$have" ] || die "$name: SHA-256 is $have, SHA256SUMS says $want: a damaged or altered download"
say "$name: SHA-256 matches SHA256SUMS"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work" smtp.so smtp.ini

# 3. Into extension_dir.
ext_dir=$(php -r 'echo ini_get("extension_dir");')
[ -n "$ext_dir" ] || die "PHP has no extension_dir"
# A PHP with no shared extension yet may not have the directory (make install makes it too).
mkdir -p "$ext_dir"
cp "$work/smtp.so" "$ext_dir/smtp.so"
chmod 0644 "$ext_dir/smtp.so"
say "installed $ext_dir/smtp.so"

# 4 and 5. Enabled, with the settings file.
if command -v docker-php-ext-enable >/dev/null 2>&1; then
    docker-php-ext-enable smtp
    conf_d=${PHP_INI_DIR:?PHP_INI_DIR is not set (the official php images set it)}/conf.d
    if [ -e "$conf_d/smtp.ini" ]; then
        say "kept the existing $conf_d/smtp.ini"
    else
        grep -v '^extension=' "$work/smtp.ini" >"$conf_d/smtp.ini"
        say "wrote $conf_d/smtp.ini (every setting with its default, commented out)"
    fi
else
    # PHP 8.5 puts the path in double quotes; earlier versions do not.
    conf_d=$(php --ini | sed -n 's/^Scan for additional .ini files in: *//p' | sed 's/^"\(.*\)"$/\1/')
    if [ -z "$conf_d" ] || [ "$conf_d" = "(none)" ]; then
        die "this PHP scans no directory for .ini files: add extension=smtp to php.ini yourself"
    fi
    cp "$work/smtp.ini" "$conf_d/20-smtp.ini"
    say "wrote $conf_d/20-smtp.ini (extension=smtp, every setting with its default, commented out)"
fi

# 6. Loaded?
php -m | grep -qx smtp || die "PHP does not load smtp after the install: php -m says $(php -m 2>&1 | head -n 3)"
say "PHP $(php -r 'echo PHP_VERSION;') loads smtp $(php -r 'echo phpversion("smtp");')"
