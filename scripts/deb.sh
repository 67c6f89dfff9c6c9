#!/usr/bin/env bash
# make deb: the Debian packages for both supported releases, into target/debian/:
#   php8.2-smtp_<version>-1_amd64.deb   Debian 12 (bookworm), PHP 8.2
#   php8.4-smtp_<version>-1_amd64.deb   Debian 13 (trixie), PHP 8.4
#   php8.5-smtp_<version>-1_amd64.deb   sid + experimental, PHP 8.5
# Each is built on its own release: here when this machine is that release, else in its cached
# root (scripts/root.sh), by packaging/debian/build.sh.
#
#   scripts/deb.sh [DIST...]    DIST: debian12, debian13, sid (default: all three)
#
# Exit status non-zero if any package could not be built.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh

here=$(php_env_distro)
dists=("$@")
((${#dists[@]})) || dists=(debian12 debian13 sid)
rc=0
for d in "${dists[@]}"; do
    case $d in debian12 | debian13 | sid) ;; *) echo "deb: unknown distribution $d" >&2; exit 2 ;; esac
    started=$SECONDS
    if [[ $d == "$here" ]]; then
        printf 'deb: building for %s here\n' "$d"
        # The distribution's PHP, whatever PHP_VERSION says (the package is for that release).
        env -u PHP -u PHP_CONFIG -u PHP_VERSION packaging/debian/build.sh || rc=1
    else
        printf 'deb: building for %s in its root\n' "$d"
        scripts/root.sh "$d" packaging/debian/build.sh || rc=1
    fi
    printf 'deb: %s took %d s\n' "$d" "$((SECONDS - started))"
done
exit "$rc"
