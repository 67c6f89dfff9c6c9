#!/usr/bin/env bash
# Installs what php-smtp needs to build and test on Debian 12 (bookworm, PHP 8.2) or Debian 13
# (trixie, PHP 8.4): the distribution's PHP by default, another with PHP_VERSION=8.4 (see
# scripts/php-env.sh).
#
#   scripts/setup.sh           install what is missing
#   scripts/setup.sh --list    print the apt packages it wants, one a line, and exit
#
# Idempotent: a second run checks with dpkg-query and does not touch apt when nothing is
# missing. Run as root, or as a user with sudo. Prints one line per step.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh
php_env_cargo_path
php_env_version
v=$PHP_VERSION


say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly if we are root, through sudo otherwise.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

# apt-get as root, its output (debconf chatter included) shown only if it fails.
apt_quiet() {
    local log
    log=$(mktemp)
    # Lock::Timeout: wait for another apt (a second worktree's setup) instead of failing.
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 \
        "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "apt-get $1 failed"
    fi
    rm -f "$log"
}

# phpX.Y-cli/-dev and libclang-dev: ext-php-rs (bindgen reads PHP's headers via libclang); gcc
# and libc6-dev: the C parts of the build (ring). procps: pgrep/ps in the scripts.
# postfix: its smtp-sink (demo, tests) and the private Postfix instances of tests/servers/postfix.py
# (own config dir, never the system's; the system's Postfix is installed unconfigured and not
# started). sasl2-bin, libsasl2-modules: saslpasswd2 and PLAIN/LOGIN for those instances' AUTH.
# phpX.Y-fpm, libfcgi-bin (cgi-fcgi): the FPM tests. php-mail, php-net-smtp,
# libphp-phpmailer, php-symfony-mailer: the PHP mailers the benchmark compares against.
# mediawiki and its PHP modules: tests/mediawiki; phpunit: SmtpMailer's unit tests. shellcheck: the scripts' check in make test.
# dpkg-dev (dpkg-shlibdeps), lintian, mmdebstrap: make deb, its tests and the Debian roots.
packages=(
    "php$v-cli" "php$v-dev" libclang-dev gcc libc6-dev
    postfix sasl2-bin libsasl2-modules openssl ca-certificates procps
    "php$v-fpm" libfcgi-bin
    php-mail php-net-smtp libphp-phpmailer php-symfony-mailer
    mediawiki "php$v-sqlite3" "php$v-intl" "php$v-mbstring" "php$v-xml" phpunit
    shellcheck dpkg-dev lintian mmdebstrap
)
# Use whichever python3 is on PATH (e.g. pyenv); only install Debian's (with Debian's aiosmtpd
# and cryptography) when there is none.
if ! command -v python3 >/dev/null 2>&1; then
    packages+=(python3 python3-aiosmtpd python3-cryptography)
fi

if [[ ${1:-} == --list ]]; then
    printf '%s\n' "${packages[@]}"
    exit 0
fi

missing=()
for p in "${packages[@]}"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) != installed ]]; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    say "apt packages: all ${#packages[@]} present"
else
    say "apt packages: installing ${missing[*]}"
    # "No configuration": postfix installs without main.cf, so no MTA is set up or started.
    echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
    apt_quiet update
    apt_quiet install -y --no-install-recommends "${missing[@]}"
fi

# Package scripts may start services (on machines with systemd and no policy-rc.d). We only
# want postfix's smtp-sink binary, php-fpm's binary and MediaWiki's files, never the daemons.
stop_services() {
    local stopped=() fpm_pid
    if pgrep -f '^/usr/lib/postfix/sbin/master' >/dev/null 2>&1; then
        as_root postfix stop >/dev/null 2>&1 || true
        stopped+=(postfix)
    fi
    # The packaged php-fpm service (its pid file); FPM pools started by tests are left alone.
    fpm_pid=/run/php/php$v-fpm.pid
    if [[ -s $fpm_pid ]] && ps -p "$(cat "$fpm_pid")" >/dev/null 2>&1; then
        as_root service "php$v-fpm" stop >/dev/null 2>&1 || as_root kill "$(cat "$fpm_pid")" || true
        stopped+=("php-fpm$v")
    fi
    # Apache: pulled in by the mediawiki package, whose installation may start it. Stopped only
    # when this run installed mediawiki, so an Apache the machine already ran is left alone.
    if [[ " ${missing[*]} " == *" mediawiki "* ]] && pgrep -x apache2 >/dev/null 2>&1; then
        as_root service apache2 stop >/dev/null 2>&1 || as_root apache2ctl stop >/dev/null 2>&1 || true
        stopped+=(apache2)
    fi
    if ((${#stopped[@]})); then
        say "services: stopped ${stopped[*]}"
    else
        say "services: postfix, php-fpm and apache2 not running"
    fi
}
if [[ -n ${PHP_SMTP_IN_ROOT:-} ]]; then
    # In a root made by scripts/root.sh, its policy-rc.d keeps package scripts from starting
    # daemons, and pgrep there would see the host's processes: nothing to stop.
    say "services: none started (Debian root with policy-rc.d)"
else
    stop_services
fi

# Python modules of the test servers: aiosmtpd, a second real SMTP server
# (tests/servers/aiosmtpd_sink.py); cryptography, the RS256 signatures of the OAuth token
# endpoint acting as Google's (tests/servers/token_server.py).
python_modules=(aiosmtpd cryptography)
missing=()
for m in "${python_modules[@]}"; do
    python3 -c "import $m" >/dev/null 2>&1 || missing+=("$m")
done
py=$(command -v python3)
if ((${#missing[@]} == 0)); then
    say "python: ${python_modules[*]} present ($py)"
elif dpkg -S "$(readlink -f "$py")" >/dev/null 2>&1; then
    # Debian's own python3: Debian's packages of the modules (pip would need the network to
    # PyPI and PEP 668's override).
    say "python: installing ${missing[*]/#/python3-} with apt ($py)"
    apt_quiet install -y --no-install-recommends "${missing[@]/#/python3-}"
else
    say "python: installing ${missing[*]} with pip ($py)"
    if ! err=$(python3 -m pip install --quiet "${missing[@]}" 2>&1); then
        printf '%s\n' "$err" >&2
        die "pip install ${missing[*]} failed"
    fi
fi
for m in "${missing[@]}"; do
    python3 -c "import $m" || die "$m installed but python3 cannot import it"
done

# Rust: rustup cannot be downloaded here, so it must already be installed.
if ! command -v cargo >/dev/null 2>&1; then
    die "cargo not found: install Rust with rustup (https://rustup.rs), then re-run"
fi
for component in fmt clippy; do
    cargo "$component" --version >/dev/null 2>&1 \
        || die "cargo $component missing: run 'rustup component add ${component/fmt/rustfmt}'"
done
say "rust: $(cargo --version)"
