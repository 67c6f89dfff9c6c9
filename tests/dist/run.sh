#!/usr/bin/env bash
# The ready-built archives of `make dist`, installed the way users install them, in fresh roots
# with the distribution's PHP and no Rust or compiler.
#
#   tests/dist/run.sh [DIR]     default: target/dist (make dist first)
#
# On the host: composer.json is what PIE reads (type php-ext, extension-name smtp,
# download-url-method pre-packaged-binary, a PHP constraint that admits every archive), every
# archive passes SHA256SUMS, is named as PIE looks for it, holds smtp.so, smtp.ini, COPYRIGHT and
# README at its top (owner 0, one mtime), and its smtp.ini loads the extension with every setting
# of ini/smtp.ini commented out.
#
# Then for each platform in TARGETS (one line each), in a fresh root (the cached
# `mmdebstrap --variant=apt` tarball of its release, unpacked anew, plus its php8.x-cli):
#   - Dockerfile.php-fpm's steps, read from the Dockerfile itself: each COPY done (into the
#     root), each RUN line run with sh, with PHP_INI_DIR=/etc/php/X.Y/cli and a stand-in
#     docker-php-ext-enable (tests/dist/docker-php-ext-enable: the root has no image's); so
#     install-smtp.sh checks the sum, copies smtp.so into extension_dir, enables it as
#     docker-php-ext-smtp.ini and writes conf.d/smtp.ini
#   - php -m lists smtp, php --ri smtp works, and smtp_send() delivers a mail to a recording
#     SMTP server on 127.0.0.1 (tests/servers/fault_smtp.py) that arrives with its subject
#   - an archive whose bytes differ from SHA256SUMS is refused and nothing is installed
#   - undone, then the same archive without docker-php-ext-enable (PIE's way where there is no
#     phpenmod: the .so into extension_dir, an ini in the directory PHP scans): loads, sends
#   - Dockerfile.mediawiki's steps: install-smtp.sh again, SmtpMailer where MediaWiki finds it
#
# Last line: "dist: N passed, M failed". A platform with no archive (make dist could not build
# it) is a failure, never skipped. Needs root (or sudo), python3 and, for a root's tarball the
# first time, mmdebstrap and the Debian archive. DIST_TEST_KEEP=1 keeps the roots.
# shellcheck disable=SC2317,SC2329  # the helpers below run through check "$@"
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
# shellcheck source=scripts/root-lib.sh
. scripts/root-lib.sh

# One line per platform: its name (as make dist's), PHP, nts/zts, the Debian release of its
# fresh root, and the arguments of `apt-get install` that put its PHP there. "@zts": a copy of
# scripts/zts.sh's ZTS PHP instead, laid out as the official images' PHP; it is built from this
# machine's Debian, so its PHP and release ("-") are read from it and from here.
TARGETS=(
    "debian12/php8.2 8.2 nts bookworm php8.2-cli"
    "debian13/php8.4 8.4 nts trixie php8.4-cli"
    "sid/php8.5 8.5 nts sid -t experimental php8.5-cli php-common/unstable"
    "zts - zts - @zts"
)

# shellcheck source=tests/lib/fresh-root.sh
. tests/lib/fresh-root.sh
fresh_begin dist DIST_TEST_KEEP

if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { fail "needs root (or sudo)"; finish; }
    exec sudo -E -- "$0" "$@"
fi

dist=$(realpath -m "${1:-target/dist}")
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
if [[ ! -f $dist/SHA256SUMS ]]; then
    fail "$dist/SHA256SUMS not found: run make dist first"
    finish
fi

# --- the archives, on the host -------------------------------------------------------------------
# shellcheck disable=SC2016  # PHP code
check "composer.json: type php-ext, extension-name smtp, download-url-method pre-packaged-binary" \
    php -n -r '$c = json_decode(file_get_contents("composer.json"), true, 16, JSON_THROW_ON_ERROR);
        $m = (array) ($c["php-ext"]["download-url-method"] ?? []);
        exit($c["type"] === "php-ext" && $c["php-ext"]["extension-name"] === "smtp"
            && in_array("pre-packaged-binary", $m, true) && preg_match("{^[a-z0-9-]+/[a-z0-9-]+$}", $c["name"]) ? 0 : 1);'
php_constraint=$(php -n -r 'echo json_decode(file_get_contents("composer.json"), true)["require"]["php"] ?? "";')

mapfile -t archives < <(find "$dist" -maxdepth 1 -name '*.tgz' -printf '%f\n' | sort)
check "SHA256SUMS lists exactly the archives in $dist" \
    diff <(printf '%s\n' "${archives[@]}") <(awk '{ sub(/^\*/, "", $2); print $2 }' "$dist/SHA256SUMS" | sort)
check "SHA256SUMS: every archive's sum matches" sh -c "cd '$dist' && sha256sum --check --strict SHA256SUMS"

ini_settings=$(sed -n 's/^\(smtp\.[a-z_]*\) *=.*/\1/p' ini/smtp.ini | sort)
for a in "${archives[@]}"; do
    # PIE's name for a Linux build: php_<ext>-<version>_php<X.Y>-<arch>-<os>-<libc>[-debug]-<nts|zts>
    check "$a: named as PIE looks for it (version $version, lower case)" \
        grep -qxE "php_smtp-${version//./\\.}_php[0-9]+\.[0-9]+-(x86_64|aarch64|arm64)-linux-glibc-(nts|zts)\.tgz" <<<"$a"
    xy=$(sed -n 's/.*_php\([0-9.]*\)-.*/\1/p' <<<"$a")
    check "$a: composer.json's php constraint '$php_constraint' admits PHP $xy" \
        grep -q "~$xy.0" <<<"$php_constraint"
    check "$a: holds COPYRIGHT README smtp.ini smtp.so at its top, owner 0, one mtime" \
        sh -c "test \"\$(tar -tzf '$dist/$a' | xargs)\" = 'COPYRIGHT README smtp.ini smtp.so' &&
               test \"\$(tar --numeric-owner -tvzf '$dist/$a' | awk '{ print \$2, \$4, \$5 }' | sort -u | wc -l)\" = 1 &&
               tar --numeric-owner -tvzf '$dist/$a' | awk '{ print \$2 }' | grep -qx 0/0"
    tar -xzf "$dist/$a" -C "$work" smtp.ini
    check "$a: smtp.ini says extension=smtp and has every setting of ini/smtp.ini, commented out" \
        sh -c "grep -qx 'extension=smtp' '$work/smtp.ini' && ! grep -q '^smtp\.' '$work/smtp.ini' &&
               test \"\$(sed -n 's/^;\(smtp\.[a-z_]*\) *=.*/\1/p' '$work/smtp.ini' | sort)\" = '$ini_settings'"
    rm -f "$work/smtp.ini"
done

# --- fresh roots ---------------------------------------------------------------------------------
in_root() { scripts/chroot-run.sh "${root_args[@]}" "$@"; }

# dockerfile_steps FILE: its COPY and RUN instructions, one a line ("COPY SRC... DST",
# "RUN COMMANDS"), continuation lines joined; what the test runs in place of `docker build`.
dockerfile_steps() {
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1" | grep -E '^(COPY|RUN) ' | sed 's/[[:space:]]\+/ /g'
}

# copy_sources_admitted DOCKERFILE: .dockerignore (everything out, then "!" lines) lets every
# COPY source of DOCKERFILE into the build context.
copy_sources_admitted() {
    local src keep ok
    while read -r src; do
        ok=0
        while IFS= read -r keep; do
            [[ ${src%/} == "$keep" || ${src%/} == "$keep"/* ]] && ok=1
        done < <(sed -n 's/^!//p' .dockerignore)
        ((ok)) || { echo "$src is not let through by .dockerignore"; return 1; }
    done < <(dockerfile_steps "$1" | sed -n 's/^COPY //p' | awk '{ $NF = ""; print }' | xargs -n 1)
}

# run_dockerfile FILE: FILE's COPY and RUN steps in the current root, as `docker build` would
# run them (COPY sources are relative to the repository, the build context).
run_dockerfile() {
    local line words dst src
    while IFS= read -r line; do
        case $line in
            COPY\ *)
                read -r -a words <<<"${line#COPY }"
                dst=${words[-1]}
                unset 'words[-1]'
                for src in "${words[@]}"; do
                    # The archives under test stand for the build context's target/dist/.
                    [[ ${src%/} != target/dist ]] || src=$dist
                    if [[ -d $src ]]; then
                        mkdir -p "$root$dst" && cp -a "$src/." "$root$dst" || return 1
                    else
                        mkdir -p "$(dirname "$root$dst")" && cp -a "$src" "$root$dst" || return 1
                    fi
                done
                ;;
            RUN\ *)
                echo "     RUN ${line#RUN }"
                in_root sh -c "${line#RUN }" || return 1
                ;;
        esac
    done < <(dockerfile_steps "$1")
}

# send NAME: smtp_send() in the root to the recording server; the mail must arrive.
send() {
    local name=$1 token
    token=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
    check "$name: smtp_send() returns the Message-ID" \
        in_root php -d smtp.host=127.0.0.1 -d "smtp.port=$smtp_port" -r \
        "exit(str_starts_with((string) smtp_send('to@example.org', 'dist $token', \"Hello\\n\", 'From: from@example.org'), '<') ? 0 : 1);"
    check "$name: the mail arrived at the SMTP server" \
        sh -c "cat '$rec'/*.eml 2>/dev/null | grep -a -q '^Subject: dist $token'"
}

test_target() {
    local name=$1 xy=$2 ts=$3 codename=$4 tar archive out
    shift 4
    local install=("$@") ini_dir zts_prefix=
    echo "--- $name"
    # Where the ini files go: Debian's CLI scans /etc/php/X.Y/cli/conf.d; the ZTS PHP is laid
    # out as the official images' (PHP_INI_DIR=/usr/local/etc/php, conf.d below it).
    if [[ ${install[0]} == @zts ]]; then
        if [[ ! -x scripts/zts.sh ]] || ! zts_prefix=$(scripts/zts.sh path) || [[ ! -x $zts_prefix/bin/php ]]; then
            fail "$name: no ZTS PHP (scripts/zts.sh build) to install the archive into"
            return
        fi
        xy=$("$zts_prefix/bin/php" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
        # shellcheck disable=SC1091  # os-release(5)
        codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
        ini_dir=/usr/local/etc/php
    else
        ini_dir=/etc/php/$xy/cli
    fi
    archive=$(printf '%s\n' "${archives[@]}" | grep -E "_php${xy//./\\.}-[^-]+-linux-glibc-$ts\.tgz$" || true)
    if [[ -z $archive ]]; then
        fail "$name: no archive for PHP $xy $ts in $dist (make dist did not build it: see its output)"
        return
    fi
    if ! tar=$(base_tarball "$codename"); then
        fail "$name: cannot make a fresh $codename root with mmdebstrap (is the Debian archive reachable?)"
        return
    fi
    fresh_root "$codename" || { fail "$name: a fresh root directory in $cache"; return; }
    tar -C "$root" --numeric-owner -xpf "$tar" || { fail "$name: unpack $tar"; return; }
    local archives_dir=$cache/dist-$codename-archives
    mkdir -p "$archives_dir/partial"
    exec 8>"$archives_dir.lock"
    flock 8
    root_args=(-b "$archives_dir:/var/cache/apt/archives" -e DEBIAN_FRONTEND=noninteractive
        -e "PHP_INI_DIR=$ini_dir")
    if [[ -n $zts_prefix ]]; then
        # A copy of the ZTS PHP (the cached build stays untouched), php on PATH as in the
        # official images, and its scan directory named as theirs.
        mkdir -p "$root$zts_prefix" "$root$ini_dir/conf.d"
        cp -a "$zts_prefix/." "$root$zts_prefix/"
        ln -s "$zts_prefix/bin/php" "$root/usr/local/bin/php"
        root_args+=(-e "PHP_INI_SCAN_DIR=$ini_dir/conf.d")
        install=()
    fi
    root_args+=("$root")
    if ! out=$(in_root apt-get -q update 2>&1) ||
        { ((${#install[@]})) && ! out=$(in_root apt-get -q -y install --no-install-recommends "${install[@]}" 2>&1); }; then
        fail "$name: apt-get install ${install[*]} in the fresh $codename root"
        printf '%s\n' "$out" | tail -n 15 | sed 's/^/     /'
        exec 8>&-
        return
    fi
    exec 8>&-
    check "$name: the fresh root has PHP $xy $ts and no Rust or C compiler" \
        in_root sh -c "php -r 'exit(PHP_MAJOR_VERSION . \".\" . PHP_MINOR_VERSION . (PHP_ZTS ? \"zts\" : \"nts\") === \"$xy$ts\" ? 0 : 1);' \
            && ! command -v cargo && ! command -v rustc && ! command -v cc && ! command -v gcc"
    local ext_dir conf_d
    ext_dir=$(in_root php -r 'echo ini_get("extension_dir");')
    conf_d=$ini_dir/conf.d

    # A damaged download first: refused, nothing installed.
    mkdir -p "$root/tmp/bad"
    cp "$dist/SHA256SUMS" "$dist/$archive" packaging/docker/install-smtp.sh "$root/tmp/bad/"
    printf 'x' | dd of="$root/tmp/bad/$archive" bs=1 seek=100 conv=notrunc status=none
    check "$name: install-smtp.sh refuses an archive whose SHA-256 differs from SHA256SUMS, installs nothing" \
        refused /tmp/bad "$ext_dir"
    rm -rf "$root/tmp/bad"

    # The Docker way: Dockerfile.php-fpm's steps.
    install -m 0755 tests/dist/docker-php-ext-enable "$root/usr/local/bin/docker-php-ext-enable"
    check "$name: Dockerfile.php-fpm's COPY and RUN steps succeed (install-smtp.sh, docker-php-ext-enable)" \
        run_dockerfile packaging/docker/Dockerfile.php-fpm
    check "$name: smtp.so in extension_dir, docker-php-ext-smtp.ini says extension=smtp.so, smtp.ini has the settings" \
        sh -c "test -f '$root$ext_dir/smtp.so' && test \"\$(cat '$root$conf_d/docker-php-ext-smtp.ini')\" = extension=smtp.so &&
               grep -q '^;smtp.host' '$root$conf_d/smtp.ini' && ! grep -q '^extension' '$root$conf_d/smtp.ini'"
    check "$name: the Dockerfile's RUN cleaned up after itself" \
        sh -c "test ! -e '$root/tmp/php-smtp' && test ! -e '$root/usr/local/bin/install-smtp.sh'"
    check "$name: php -m lists smtp" in_root sh -c 'php -m | grep -qx smtp'
    check "$name: php --ri smtp shows the settings" in_root sh -c 'php --ri smtp | grep -q "smtp.host"'
    send "$name (Docker way)"

    # PIE's way where there is no docker-php-ext-enable and no phpenmod: an ini in the scan dir.
    rm -f "$root$ext_dir/smtp.so" "$root$conf_d/docker-php-ext-smtp.ini" "$root$conf_d/smtp.ini" \
        "$root/usr/local/bin/docker-php-ext-enable"
    check "$name: undone: php -m no longer lists smtp" in_root sh -c '! php -m | grep -qx smtp'
    mkdir -p "$root/tmp/php-smtp"
    cp "$dist/SHA256SUMS" "$dist/$archive" "$root/tmp/php-smtp/"
    cp packaging/docker/install-smtp.sh "$root/usr/local/bin/install-smtp.sh"
    check "$name: install-smtp.sh without docker-php-ext-enable: smtp.so in extension_dir, 20-smtp.ini in $conf_d" \
        pie_way "$ext_dir" "$conf_d"
    check "$name: php -m lists smtp" in_root sh -c 'php -m | grep -qx smtp'
    send "$name (PIE way)"
    rm -rf "$root/tmp/php-smtp" "$root/usr/local/bin/install-smtp.sh" "$root$ext_dir/smtp.so" "$root$conf_d/20-smtp.ini"

    # Dockerfile.mediawiki's steps (no MediaWiki here: that its RUN works, and where SmtpMailer lands).
    install -m 0755 tests/dist/docker-php-ext-enable "$root/usr/local/bin/docker-php-ext-enable"
    check "$name: Dockerfile.mediawiki's COPY and RUN steps succeed; SmtpMailer in /var/www/html/extensions" \
        mediawiki_way
}

# refused DIR EXT_DIR: install-smtp.sh DIR (in the root) fails on the checksum, no smtp.so left.
refused() {
    local out
    if out=$(in_root sh "$1/install-smtp.sh" "$1" 2>&1); then
        echo "install-smtp.sh succeeded: $out"
        return 1
    fi
    echo "$out"
    grep -q 'SHA-256 is .*SHA256SUMS says' <<<"$out" && test ! -e "$root$2/smtp.so"
}

# pie_way EXT_DIR CONF_D: install-smtp.sh with no docker-php-ext-enable in the root.
pie_way() {
    in_root install-smtp.sh /tmp/php-smtp && test -f "$root$1/smtp.so" && grep -qx extension=smtp "$root$2/20-smtp.ini"
}

mediawiki_way() {
    run_dockerfile packaging/docker/Dockerfile.mediawiki &&
        test -f "$root/var/www/html/extensions/SmtpMailer/extension.json" &&
        in_root sh -c 'php -m | grep -qx smtp'
}

for f in packaging/docker/Dockerfile.*; do
    check "$f: .dockerignore lets every COPY source into the build context" copy_sources_admitted "$f"
done

python3 tests/servers/fault_smtp.py --port 0 --record "$work/rec" --lifetime 1800 \
    >"$work/smtp.out" 2>"$work/smtp.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^READY ' "$work/smtp.out" && break; sleep 0.05; done
smtp_port=$(awk '/^READY/ { print $2 }' "$work/smtp.out")
rec=$work/rec
if [[ -z $smtp_port ]]; then
    fail "fault_smtp.py did not start: $(cat "$work/smtp.err")"
    finish
fi

for t in "${TARGETS[@]}"; do
    t0=$SECONDS
    # shellcheck disable=SC2086  # words of the table
    test_target $t
    echo "     took $((SECONDS - t0)) s"
done
finish
