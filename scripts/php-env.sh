# shellcheck shell=bash
# Which PHP to build and test against, and where its pieces are. Sourced by the scripts, the
# Makefile and the integration tests; defines functions only.
#
#   php_env_distro      this machine's distribution as "debian12", "debian13", ... (os-release)
#   php_env_version     sets PHP_VERSION (no PHP needs to be installed yet)
#   php_env_resolve     sets PHP_VERSION, PHP_CONFIG, PHP and the paths below (needs php-config)
#   php_env_cargo_path  puts ~/.cargo/bin on PATH if it is not there (php_env_resolve does too)
#
# Choosing a PHP (first that is set wins):
#   PHP_CONFIG=/usr/bin/php-config8.4   that PHP's php-config
#   PHP=/usr/bin/php8.4                 that PHP's CLI binary
#   PHP_VERSION=8.4                     php-config8.4 on PATH
#   nothing                             the distribution's PHP: Debian 12 -> 8.2, Debian 13 -> 8.4
#                                       (sid with php-config8.5: 8.5, the sid root's release)
#                                       (elsewhere: the newest php-configX.Y on PATH)
# ext-php-rs reads PHP (runs it for `php -i`) and PHP_CONFIG (headers): both are exported and
# checked to name the same PHP, so the extension is built against the PHP that tests it.
#
# Paths, all from php-config (nothing hard-coded):
#   PHP_API         20220829            PHP_EXT_DIR     /usr/lib/php/20220829
#   PHP_ETC_DIR     /etc/php/8.2        PHP_MODS_DIR    /etc/php/8.2/mods-available
#   PHP_CONF_D      /etc/php/8.2/cli/conf.d (the CLI's scan directory)
#   PHP_FPM         /usr/sbin/php-fpm8.2 (may not exist: the FPM is a separate package)
#   PHP_RUN_TESTS   /usr/lib/php/20220829/build/run-tests.php (from phpX.Y-dev)
#   PHP_PLATFORM    debian12/php8.2, the name the test summary lines use

# rustup's ~/.cargo/bin on PATH, added only when it is missing: ext-php-rs's build script
# reruns (and everything after it rebuilds) whenever PATH changes.
php_env_cargo_path() {
    local b=${CARGO_HOME:-${HOME:-/root}/.cargo}/bin
    if [[ -d $b && ":$PATH:" != *":$b:"* ]]; then
        PATH=$b:$PATH
        export PATH
    fi
    return 0
}

# The PHP each Debian release ships (Debian has one PHP per release, NTS only).
php_env_debian_php() {
    case $1 in
        12 | bookworm) echo 8.2 ;;
        13 | trixie) echo 8.4 ;;
        *) return 1 ;;
    esac
}

php_env_distro() {
    local ID='' VERSION_ID=''
    # shellcheck disable=SC1091  # /etc/os-release: see os-release(5)
    [[ -r /etc/os-release ]] && . /etc/os-release
    # Debian unstable (and testing) has no VERSION_ID.
    if [[ ${ID:-} == debian && -z ${VERSION_ID:-} ]]; then
        echo sid
        return
    fi
    printf '%s%s\n' "${ID:-unknown}" "${VERSION_ID%%.*}"
}

php_env_die() {
    printf 'php-env: error: %s\n' "$*" >&2
    return 1
}

# The version of the PHP named by PHP_CONFIG, PHP or PHP_VERSION, else the distribution's.
php_env_version() {
    local d v c
    if [[ -n ${PHP_CONFIG:-} ]]; then
        command -v "$PHP_CONFIG" >/dev/null 2>&1 || php_env_die "PHP_CONFIG=$PHP_CONFIG not found" || return
        v=$("$PHP_CONFIG" --version) || return
        v=$(cut -d. -f1,2 <<<"$v")
    elif [[ -n ${PHP:-} ]]; then
        command -v "$PHP" >/dev/null 2>&1 || php_env_die "PHP=$PHP not found" || return
        v=$("$PHP" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;') || return
    elif [[ -n ${PHP_VERSION:-} ]]; then
        v=$PHP_VERSION
    else
        d=$(php_env_distro)
        if [[ $d == debian* ]] && v=$(php_env_debian_php "${d#debian}"); then
            :
        elif [[ $d == sid ]] && command -v php-config8.5 >/dev/null 2>&1; then
            # The sid root (scripts/root.sh sid) has 8.5 and the 8.6 RC: the release, unless
            # PHP_VERSION=8.6 asks for the RC.
            v=8.5
        else
            # Not a Debian release we know: the newest versioned php-config on PATH.
            v=$(compgen -c php-config | sed -n 's/^php-config\([0-9][0-9.]*\)$/\1/p' | sort -V | tail -n 1)
            if [[ -z $v ]] && c=$(command -v php-config); then
                v=$("$c" --version | cut -d. -f1,2)
            fi
            [[ -n $v ]] || php_env_die "no PHP found on $d: set PHP_VERSION or PHP_CONFIG" || return
        fi
    fi
    [[ $v =~ ^[0-9]+\.[0-9]+$ ]] || php_env_die "cannot tell the PHP version ('$v')" || return
    if [[ -n ${PHP_VERSION:-} && $PHP_VERSION != "$v" ]]; then
        php_env_die "PHP_VERSION=$PHP_VERSION, but ${PHP_CONFIG:+PHP_CONFIG=$PHP_CONFIG}${PHP_CONFIG:-PHP=$PHP} is PHP $v" || return
    fi
    PHP_VERSION=$v
    export PHP_VERSION
}

php_env_resolve() {
    php_env_cargo_path
    php_env_version || return
    local v=$PHP_VERSION cv bv suffix prefix
    if [[ -z ${PHP_CONFIG:-} ]]; then
        PHP_CONFIG=$(command -v "php-config$v") \
            || php_env_die "php-config$v not found: install php$v-dev (scripts/setup.sh does)" || return
    fi
    # Real paths (/usr/bin/php is an alternatives link): the same PHP always gets the same
    # PHP and PHP_CONFIG values, which ext-php-rs's build script reruns on.
    PHP_CONFIG=$(realpath "$(command -v "$PHP_CONFIG")")
    [[ -n ${PHP:-} ]] || PHP=$("$PHP_CONFIG" --php-binary)
    PHP=$(command -v "$PHP") || php_env_die "the PHP binary of $PHP_CONFIG is missing (php$v-cli)" || return
    PHP=$(realpath "$PHP")
    cv=$("$PHP_CONFIG" --version)
    bv=$("$PHP" -n -r 'echo PHP_VERSION;')
    [[ $cv == "$bv" ]] || php_env_die "PHP=$PHP is PHP $bv but PHP_CONFIG=$PHP_CONFIG is PHP $cv: both must name the same PHP" || return
    [[ $cv == "$v".* ]] || php_env_die "PHP_VERSION=$v but $PHP_CONFIG is PHP $cv" || return
    export PHP PHP_CONFIG

    PHP_API=$("$PHP_CONFIG" --phpapi)
    PHP_EXT_DIR=$("$PHP_CONFIG" --extension-dir)
    PHP_CONF_D=$("$PHP_CONFIG" --ini-dir)
    # --ini-path is the CLI's directory (/etc/php/8.2/cli); its parent holds mods-available.
    PHP_ETC_DIR=$(dirname "$("$PHP_CONFIG" --ini-path)")
    PHP_MODS_DIR=$PHP_ETC_DIR/mods-available
    # php-fpm: installed as <prefix>/sbin/php-fpm<program suffix> (Debian: /usr/sbin/php-fpm8.2).
    prefix=$("$PHP_CONFIG" --prefix)
    suffix=$("$PHP_CONFIG" --configure-options | tr ' ' '\n' | sed -n 's/^--program-suffix=//p' | head -n 1)
    PHP_FPM=$prefix/sbin/php-fpm$suffix
    PHP_RUN_TESTS=$PHP_EXT_DIR/build/run-tests.php
    PHP_PLATFORM=$(php_env_distro)/php$v
    export PHP_API PHP_EXT_DIR PHP_CONF_D PHP_ETC_DIR PHP_MODS_DIR PHP_FPM PHP_RUN_TESTS PHP_PLATFORM
    # In the sid root one build directory per PHP (target/sid-php8.5, target/sid-php8.6).
    if [[ -z ${CARGO_TARGET_DIR:-} && -n ${PHP_SMTP_TARGET_PREFIX:-} ]]; then
        CARGO_TARGET_DIR=$PHP_SMTP_TARGET_PREFIX$v
        export CARGO_TARGET_DIR
    fi
}
