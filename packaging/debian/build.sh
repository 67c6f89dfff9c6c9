#!/usr/bin/env bash
# Build the Debian package of the extension for the PHP on this machine (or in this root):
#   target/debian/php<X.Y>-smtp_<version>-<revision>_<arch>.deb
# laid out as Debian's own PHP modules (php8.2-apcu, php8.2-redis):
#   /usr/lib/php/<API>/smtp.so                     the extension (stripped)
#   /etc/php/<X.Y>/mods-available/smtp.ini         conffile: ini/smtp.ini + "; priority=20"
#   /usr/bin/smtp-doctor (+ man page)              runs bin/smtp-doctor (kept in
#                                                  /usr/share/php<X.Y>-smtp/) with /usr/bin/php<X.Y>
#   /usr/share/doc/php<X.Y>-smtp/copyright, changelog.Debian.gz
#   postinst: phpenmod for every installed SAPI; postrm: phpdismod on remove, state and
#   leftover links cleared on purge (php-common's php-maintscript-helper, as dh_php does)
#   Depends: phpapi-<API>, php<X.Y>-common, php<X.Y>-cli (smtp-doctor), and the libraries
#   dpkg-shlibdeps finds (libc6, libgcc-s1); Provides: php-smtp
#
# Plain `dpkg-deb --root-owner-group --build` from a staging directory, not debhelper: the
# build is cargo's, the package has five files and two small maintainer scripts, and a
# debian/ source package would have dpkg-buildpackage rebuild everything in a clean
# environment without the rustup toolchain. The version is packaging/debian/changelog's and
# must match Cargo.toml's. The PHP is scripts/php-env.sh's (PHP_VERSION / PHP_CONFIG, default
# the distribution's); cargo builds into CARGO_TARGET_DIR (default target/) as `make build`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD
here=$repo/packaging/debian

# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh

say() { printf 'deb: %s\n' "$*"; }
die() { printf 'deb: error: %s\n' "$*" >&2; exit 1; }

php_env_resolve || die "no PHP to build for"
for tool in dpkg-deb dpkg-shlibdeps dpkg-parsechangelog strip; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/setup.sh installs dpkg-dev)"
done

upstream=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
deb_version=$(dpkg-parsechangelog -l "$here/changelog" -S Version)
[[ ${deb_version%-*} == "$upstream" ]] \
    || die "packaging/debian/changelog is at $deb_version but Cargo.toml at $upstream: add a changelog entry"
# Every file gets the changelog's date: the same source gives the same package. (Not exported
# to cargo: the cc crate's build scripts rerun when SOURCE_DATE_EPOCH changes.)
epoch=$(dpkg-parsechangelog -l "$here/changelog" -S Timestamp)
arch=$(dpkg --print-architecture)
pkg=php$PHP_VERSION-smtp
out=$repo/target/debian
deb=$out/${pkg}_${deb_version}_$arch.deb
lib=${CARGO_TARGET_DIR:-$repo/target}/release/libsmtp.so

say "$pkg $deb_version for PHP $("$PHP" -n -r 'echo PHP_VERSION;') (API $PHP_API) on $(php_env_distro)"
cargo build --release
[[ -f $lib ]] || die "$lib was not built"

work=$(mktemp -d -t php-smtp-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
umask 022

# --- files ------------------------------------------------------------------------------------
install -D -m 0644 "$lib" "$stage$PHP_EXT_DIR/smtp.so"
# As dh_strip does: debugging symbols and notes out, the exported get_module stays.
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage$PHP_EXT_DIR/smtp.so"

# The ini as Debian's modules have it: a "priority" comment for phpenmod (20: no other module
# needs to load first), then ini/smtp.ini.
mkdir -p "$stage$PHP_MODS_DIR"
{
    echo "; configuration for php smtp module"
    echo "; priority=20"
    cat ini/smtp.ini
} >"$stage$PHP_MODS_DIR/smtp.ini"
chmod 0644 "$stage$PHP_MODS_DIR/smtp.ini"
grep -qx 'extension=smtp.so' "$stage$PHP_MODS_DIR/smtp.ini" || die "ini/smtp.ini has no 'extension=smtp.so' line"

# smtp-doctor runs with this package's PHP, whatever /usr/bin/php points to: a shell wrapper
# runs $PHP on the PHP script, kept in /usr/share/$pkg. The script's "#!" line becomes a PHP
# tag that prints nothing, so its line numbers (which --help reads) stay the same.
share=/usr/share/$pkg
install -d "$stage/usr/bin" "$stage$share"
sed -e "1s|^#!.*|<?php /* smtp-doctor, run by /usr/bin/smtp-doctor with $PHP */ ?>|" \
    bin/smtp-doctor >"$stage$share/smtp-doctor.php"
head -n 1 bin/smtp-doctor | grep -q '^#!' || die "bin/smtp-doctor does not start with a #! line"
printf '#!/bin/sh\n# smtp-doctor(1): checks the settings of the smtp extension of PHP %s.\nexec %s %s "$@"\n' \
    "$PHP_VERSION" "$PHP" "$share/smtp-doctor.php" >"$stage/usr/bin/smtp-doctor"
chmod 0644 "$stage$share/smtp-doctor.php"
chmod 0755 "$stage/usr/bin/smtp-doctor"
install -d "$stage/usr/share/man/man1"
gzip -9n <"$here/smtp-doctor.1" >"$stage/usr/share/man/man1/smtp-doctor.1.gz"

doc=$stage/usr/share/doc/$pkg
install -d "$doc"
gzip -9n <"$here/changelog" >"$doc/changelog.Debian.gz"

# copyright: ours (MIT), and the statically linked crates with the licenses they declare.
"$repo/packaging/copyright.sh" >"$doc/copyright" || die "packaging/copyright.sh failed"
chmod 0644 "$doc/copyright" "$doc/changelog.Debian.gz" "$stage/usr/share/man/man1/smtp-doctor.1.gz"

# --- control ----------------------------------------------------------------------------------
install -d "$stage/DEBIAN"
# dpkg-shlibdeps wants a debian/control to read; it only needs to exist.
mkdir -p "$work/src/debian"
printf 'Source: php-smtp\n\nPackage: %s\nArchitecture: any\n' "$pkg" >"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O -e"$stage$PHP_EXT_DIR/smtp.so" 2>"$work/shlibdeps.err") \
    || { cat "$work/shlibdeps.err" >&2; die "dpkg-shlibdeps failed"; }
shlibs=${shlibs#shlibs:Depends=}
[[ $shlibs == *libc6* ]] || die "dpkg-shlibdeps found no libc6 dependency ('$shlibs')"

installed_size=$(du -s -k --apparent-size --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@PHP_VERSION@|$PHP_VERSION|g" -e "s|@PHP_API@|$PHP_API|g" \
    -e "s|@DEB_VERSION@|$deb_version|g" -e "s|@ARCH@|$arch|g" \
    -e "s|@INSTALLED_SIZE@|$installed_size|g" -e "s|@SHLIBS_DEPENDS@|$shlibs|g" \
    "$here/control.in" >"$stage/DEBIAN/control"
for s in postinst postrm; do
    sed -e "s|@PHP_VERSION@|$PHP_VERSION|g" "$here/$s.in" >"$stage/DEBIAN/$s"
    chmod 0755 "$stage/DEBIAN/$s"
done
echo "$PHP_MODS_DIR/smtp.ini" >"$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
    | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

find "$stage" -exec touch -h -d "@$epoch" {} +
mkdir -p "$out"
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
say "built $deb"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Depends\|Provides\|Installed-Size\):/  \1:/p'
