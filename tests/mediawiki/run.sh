#!/usr/bin/env bash
# MediaWiki integration test: a throw-away MediaWiki (Debian's package: 1.39 on Debian 12 with
# PHP 8.2, 1.43 on Debian 13 with PHP 8.4; the PHP is scripts/php-env.sh's) on SQLite sends
# its mail through this extension, and the project's recording SMTP server
# (tests/servers/fault_smtp.py) checks what arrives.
#
#   hook      $wgSMTP array + the SmtpMailer MediaWiki extension (mediawiki/SmtpMailer):
#             UserMailer::send() from a maintenance script, and Special:EmailUser in a browser
#             session against PHP's built-in web server
#   mail()    $wgSMTP = false + smtp.override_mail=1: MediaWiki's mail() calls
#   failures  a server that refuses the sender, a port where nothing listens: MediaWiki's
#             Status carries the extension's message and the web page shows it
#   fallback  another extension transforms mail after SmtpMailer (SmtpMailer then sends from
#             AlternateUserMailer and reports failure as an error page); the smtp PHP
#             extension not loaded (MediaWiki's PEAR path sends, SmtpMailer stays out)
#
# Installs what is missing (mediawiki, phpX.Y-sqlite3, ... with apt, as root or via sudo) and
# stops Apache if installing started it. /usr/share/mediawiki is not modified: the wiki is a
# directory of symlinks to it (as Debian's /var/lib/mediawiki is) with its own LocalSettings.php,
# extensions/ and SQLite files, found through MW_INSTALL_PATH.
#
# Last line: "mediawiki: N passed, M failed". Exit status non-zero if anything failed.
# MW_TEST_KEEP=1 keeps the temporary directory (wiki, recorded mail, logs) for inspection;
# MW_TEST_VERBOSE=1 shows each step's result (Status / what the web page said).
# shellcheck disable=SC2016  # PHP and Python code in single quotes: $ is theirs, not the shell's
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
root=$PWD
here=$root/tests/mediawiki
started=$SECONDS
# shellcheck source=scripts/php-env.sh
. scripts/php-env.sh
if ! php_env_version; then
    echo "mediawiki: 0 passed, 1 failed"
    exit 1
fi
v=$PHP_VERSION
ext=${PHP_SMTP_EXT:-${CARGO_TARGET_DIR:-$root/target}/release/libsmtp.so}

passed=0 failed=0
pids=()
work=$(mktemp -d -t php-smtp-mw.XXXXXX)

# shellcheck disable=SC2317,SC2329  # called by the EXIT trap
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [[ ${MW_TEST_KEEP:-0} == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
    [[ ${MW_TEST_KEEP:-0} == 1 ]] && echo "mediawiki: kept $work"
    echo "mediawiki: took $((SECONDS - started)) s"
    echo "mediawiki: $passed passed, $failed failed"
    ((failed == 0))
    exit
}

# A step the rest depends on failed: count it and stop.
abort() {
    echo "FAIL $*"
    failed=$((failed + 1))
    finish
}

# check NAME COMMAND...: one test; the command's output is shown only when it fails.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        [[ -n $out ]] && printf '%s\n' "$out"
        failed=$((failed + 1))
    fi
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        return 1
    fi
}

[[ -f $ext ]] || abort "the extension $ext is not built (cargo build --release)"

# --- packages ---------------------------------------------------------------------------------
# mediawiki: 1.39 in Debian 12, 1.43 in Debian 13; it depends on apache2 | httpd, which is
# installed but not used. phpX.Y-sqlite3: the wiki's database. intl, mbstring, xml: MediaWiki's
# requirements.
packages=(mediawiki "php$v-sqlite3" "php$v-intl" "php$v-mbstring" "php$v-xml")
missing=()
for p in "${packages[@]}"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) != installed ]]; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    apache_before=0
    pgrep -x apache2 >/dev/null 2>&1 && apache_before=1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update >"$work/apt.log" 2>&1
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
        "${missing[@]}" >>"$work/apt.log" 2>&1; then
        tail -n 20 "$work/apt.log"
        abort "apt-get install ${missing[*]} (needs root or sudo)"
    fi
    # The package may have started Apache (machines without a policy-rc.d that forbids it).
    # This test uses PHP's built-in server; leave no web server behind that we started.
    if ((!apache_before)) && pgrep -x apache2 >/dev/null 2>&1; then
        as_root service apache2 stop >/dev/null 2>&1 || as_root apache2ctl stop >/dev/null 2>&1 || true
        echo "stopped apache2 (started by the package installation)"
    fi
fi
php_env_resolve || abort "no PHP $v (php$v-cli, php$v-dev)"
mw=/usr/share/mediawiki
[[ -f $mw/maintenance/install.php ]] || abort "MediaWiki not found in $mw"
echo "MediaWiki $(sed -n "s/^define( 'MW_VERSION', '\(.*\)' );/\1/p" "$mw/includes/Defines.php"), PHP $("$PHP" -n -r 'echo PHP_VERSION;')"

# --- PHP: Debian's CLI settings minus any installed smtp.ini, plus the extension under test ---
mkdir -p "$work/conf.d"
for f in "$PHP_CONF_D"/*.ini; do
    [[ -e $f ]] || continue
    case $(basename "$f") in *smtp*) ;; *) ln -s "$f" "$work/conf.d/" ;; esac
done
export PHP_INI_SCAN_DIR=$work/conf.d
php=("$PHP" -d "extension=$ext" -d display_errors=stderr)

# --- the wiki: symlinks to /usr/share/mediawiki, own settings, extensions and data --------------
wiki=$work/wiki
mkdir -p "$wiki/extensions" "$wiki/images" "$work/data"
for f in "$mw"/*; do
    case $(basename "$f") in
        LocalSettings.php | extensions | images | config) ;;
        *) ln -s "$f" "$wiki/" ;;
    esac
done
ln -s "$root/mediawiki/SmtpMailer" "$wiki/extensions/SmtpMailer"
ln -s "$here/TransformAfter" "$wiki/extensions/TransformAfter"
export MW_INSTALL_PATH=$wiki MW_CONFIG_FILE=$wiki/LocalSettings.php

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
web_port=$(free_port)
down_port=$(free_port) # nothing listens there

if ! timeout 300 "$PHP" "$wiki/maintenance/install.php" --dbtype sqlite --dbpath "$work/data" \
    --dbname wiki --server "http://127.0.0.1:$web_port" --scriptpath '' --lang en \
    --pass 'Admin-pass-12345' --confpath "$wiki" --skins Vector TestWiki Admin \
    >"$work/install.log" 2>&1; then
    tail -n 30 "$work/install.log"
    abort "MediaWiki install.php"
fi
echo "require __DIR__ . '/TestSettings.php';" >>"$wiki/LocalSettings.php"

# --- SMTP servers --------------------------------------------------------------------------------
# start_smtp VAR ARGS...: start fault_smtp.py, put its port in VAR.
start_smtp() {
    local var=$1 out
    shift
    out=$(mktemp -p "$work" smtp.XXXX)
    python3 "$root/tests/servers/fault_smtp.py" --port 0 --lifetime 600 "$@" >"$out" 2>>"$work/smtp.err" &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q '^READY ' "$out" && break
        sleep 0.05
    done
    printf -v "$var" '%s' "$(awk '/^READY/ {print $2}' "$out")"
    [[ -n ${!var} ]] || abort "fault_smtp.py $* did not start: $(cat "$work/smtp.err")"
}
rec=$work/rec
good_port='' refuse_port=''
start_smtp good_port --record "$rec" --hostname smtp.example.test
start_smtp refuse_port --record "$work/rec-refused" \
    --reply 'MAIL=550 5.7.1 you are not authorized to use this sender'
refusal='550 5.7.1 you are not authorized to use this sender'

# --- settings ------------------------------------------------------------------------------------
log=$work/smtpmailer.log
# settings MODE PORT [PHP]: write the part of the wiki's settings the steps change (PHP: more lines).
#   hook        $wgSMTP = [...] + SmtpMailer
#   hook-after  the same + TransformAfter (a UserMailerTransformMessage handler after ours)
#   mail        $wgSMTP = false (+ SmtpMailer, which must then stay out); smtp.port = PORT
settings() {
    local mode=$1 port=$2 more=${3:-}
    {
        cat <<PHP
<?php
\$wgServer = 'http://127.0.0.1:$web_port';
\$wgPasswordSender = 'wiki@example.test';
\$wgEmailAuthentication = false;
\$wgAllowHTMLEmail = true;
\$wgRateLimits['emailuser'] = [];
\$wgRateLimits['emailuser-recipient'] = [];
\$wgDebugLogGroups['SmtpMailer'] = '$log';
// A bounce address unlike From: shows where the envelope sender comes from.
\$wgHooks['UserMailerChangeReturnPath'][] = static function ( \$to, &\$returnPath ) {
	\$returnPath = 'bounces@example.test';
};
PHP
        case $mode in
            hook | hook-after)
                # persist and debug: PEAR Mail keys, which SmtpMailer must drop.
                cat <<PHP
\$wgSMTP = [
	'host' => '127.0.0.1', 'port' => $port, 'auth' => false,
	'IDHost' => 'wiki.example.test', 'localhost' => 'wiki.example.test',
	'timeout' => 5, 'persist' => true, 'debug' => false,
];
wfLoadExtension( 'SmtpMailer' );
PHP
                [[ $mode == hook-after ]] && echo "wfLoadExtension( 'TransformAfter' );"
                ;;
            mail)
                cat <<PHP
\$wgSMTP = false;
wfLoadExtension( 'SmtpMailer' );
ini_set( 'smtp.port', '$port' );
PHP
                ;;
        esac
        printf '%s\n' "$more"
    } >"$wiki/TestSettings.php"
}

count() { find "$rec" -maxdepth 1 -name '[0-9]*.json' 2>/dev/null | wc -l; }

# send [PHP-OPTIONS...] -- SCRIPT-OPTIONS...: UserMailer::send() through SendTestMail.php;
# its JSON goes to $work/result.json. Sets $since to the number of messages before the send.
send() {
    local opts=()
    while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    since=$(count)
    : >"$log"
    timeout 60 "${opts[@]}" "$here/SendTestMail.php" "$@" >"$work/result.json" 2>"$work/result.err"
    if ! grep -q '^{' "$work/result.json"; then
        echo "SendTestMail.php printed no result:" >&2
        cat "$work/result.json" "$work/result.err" >&2
    fi
}

# web ARGS...: Alice sends Bob a mail through Special:EmailUser.
web() {
    since=$(count)
    : >"$log"
    timeout 120 python3 "$here/web_email.py" --base "http://127.0.0.1:$web_port" \
        --user Alice --password 'Alice-pass-12345' --target Bob \
        --save "$work/page.html" "$@" >"$work/result.json" 2>"$work/result.err" \
        || cat "$work/result.err" >&2
}

# expect NAME EXPR...: one test on the last result and the messages since the last send.
expect() {
    local name=$1
    shift
    check "$name" python3 "$here/expect.py" --rec "$rec" --since "$since" \
        --result "$work/result.json" --log "$log" "$@"
    if [[ ${MW_TEST_VERBOSE:-0} == 1 ]]; then
        python3 -c 'import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
d.pop("text", None) if "http" in d and d.get("error") else None
print("     " + json.dumps(d, ensure_ascii=False)[:1500])' "$work/result.json" 2>/dev/null || true
    fi
}

settings hook "$good_port"

# --- users: Alice and Bob with email addresses ----------------------------------------------------
for u in Alice Bob; do
    lc=$(tr '[:upper:]' '[:lower:]' <<<"$u")
    timeout 60 "${php[@]}" "$wiki/maintenance/createAndPromote.php" "$u" "$u-pass-12345" \
        >>"$work/users.log" 2>&1 || abort "createAndPromote.php $u: $(tail -n 5 "$work/users.log")"
    timeout 60 "${php[@]}" "$wiki/maintenance/resetUserEmail.php" --no-reset-password "$u" \
        "$lc@example.test" >>"$work/users.log" 2>&1 \
        || abort "resetUserEmail.php $u: $(tail -n 5 "$work/users.log")"
done

# --- PHP's built-in web server --------------------------------------------------------------------
# opcache.enable=0: the built-in server (SAPI cli-server) follows opcache.enable, not
# opcache.enable_cli, and would keep serving an old TestSettings.php for up to
# opcache.revalidate_freq seconds after a step rewrites it.
"${php[@]}" -d opcache.enable=0 -d smtp.override_mail=1 -d smtp.host=127.0.0.1 \
    -d "smtp.port=$good_port" -d smtp.timeout=5 \
    -S "127.0.0.1:$web_port" -t "$wiki" >"$work/web.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $web_port), 0.2)" \
        2>/dev/null && break
    sleep 0.1
done
echo "wiki ready after $((SECONDS - started)) s (SMTP servers on $good_port, $refuse_port; web on $web_port)"

subject='Grüße – ünïcödé ✓ test'
body='Hello from the wiki: ünïcödé body, long enough.'

# === a. $wgSMTP + SmtpMailer, UserMailer::send() ===================================================
echo "--- hook: \$wgSMTP array + SmtpMailer, UserMailer::send()"
settings hook "$good_port"
send "${php[@]}" -- --to 'Ann <ann@example.test>,bob@example.test' \
    --from wiki@example.test --from-name 'Test Wiki' --subject "$subject" --body "$body"
expect "hook: UserMailer::send() returns a good Status" \
    'r.get("good") is True'
expect "hook: one message; envelope sender = Return-Path (bounces@), both recipients" \
    'len(msgs) == 1' \
    'msgs[0].env["mail_from"] == "bounces@example.test"' \
    'msgs[0].env["rcpt_to"] == ["ann@example.test", "bob@example.test"]' \
    '"Return-Path" not in msgs[0].msg'
expect "hook: Message-ID @wiki.example.test (IDHost), EHLO wiki.example.test (localhost)" \
    'msgs[0].msg["Message-ID"].endswith("@wiki.example.test>")' \
    'msgs[0].msg["Message-ID"].startswith("<wiki.")' \
    'msgs[0].env["helo"] == "wiki.example.test"'
expect "hook: UTF-8 subject sent as RFC 2047 encoded-word, decodes to the original" \
    'b"Subject: =?UTF-8?" in msgs[0].raw' \
    "msgs[0].msg['Subject'] == '$subject'"
expect "hook: body and From intact; recipients not shown to each other (no Bcc)" \
    "msgs[0].text.strip() == '$body'" \
    'msgs[0].msg["From"] == "Test Wiki <wiki@example.test>"' \
    'msgs[0].msg.get_all("To") == ["undisclosed-recipients:;"]' \
    '"Bcc" not in msgs[0].msg and "Cc" not in msgs[0].msg' \
    'b"ann@example.test" not in msgs[0].raw and b"bob@example.test" not in msgs[0].raw'
expect "hook: sent from UserMailerTransformMessage; PEAR-only \$wgSMTP keys dropped" \
    '"in UserMailerTransformMessage" in log' \
    '"Ignoring $wgSMTP keys that only PEAR Mail uses: persist, debug" in log'

send "${php[@]}" -- --to 'Ann Ünï <ann@example.test>' --from wiki@example.test \
    --subject 'Text and HTML' --body "$body" --html '<p>Hello <b>HTML</b> ✓</p>' \
    --replyto 'Alice <alice@example.test>'
expect "hook: one recipient shown in To; Reply-To; text+HTML multipart intact" \
    'r.get("good") is True and len(msgs) == 1' \
    'msgs[0].msg["To"] == "Ann Ünï <ann@example.test>"' \
    'msgs[0].env["rcpt_to"] == ["ann@example.test"]' \
    'msgs[0].msg["Reply-To"] == "Alice <alice@example.test>"' \
    'msgs[0].msg.get_content_type() == "multipart/alternative"' \
    "msgs[0].text.strip() == '$body'" \
    'msgs[0].msg.get_body(("html",)).get_content().strip() == "<p>Hello <b>HTML</b> ✓</p>"'

settings hook "$good_port" '$wgEnotifMaxRecips = 2;'
send "${php[@]}" -- --to 'a@example.test,b@example.test,c@example.test' --from wiki@example.test \
    --subject "$subject" --body "$body"
expect "hook: recipients in batches of \$wgEnotifMaxRecips (2 + 1), same message" \
    'r.get("good") is True and len(msgs) == 2' \
    '[m.env["rcpt_to"] for m in msgs] == [["a@example.test", "b@example.test"], ["c@example.test"]]' \
    'msgs[0].msg["Message-ID"] == msgs[1].msg["Message-ID"]'
settings hook "$good_port"

# === b. Special:EmailUser through the web server ===================================================
echo "--- hook: Special:EmailUser (web)"
web --subject "$subject" --text 'Hello Bob, this is Alice.'
expect "web hook: the page says 'Email sent'" \
    'r.get("sent") is True' 'r.get("title") == "Email sent"' 'not r.get("error")'
expect "web hook: Bob gets Alice's mail (From \$wgPasswordSender, Reply-To Alice)" \
    'len(msgs) == 1' \
    'msgs[0].env["rcpt_to"] == ["bob@example.test"]' \
    'msgs[0].env["mail_from"] == "bounces@example.test"' \
    'msgs[0].msg["Reply-To"] == "Alice <alice@example.test>"' \
    "msgs[0].msg['Subject'] == '$subject'" \
    '"Hello Bob, this is Alice." in msgs[0].text' \
    'msgs[0].msg["Message-ID"].endswith("@wiki.example.test>")'

# === c. $wgSMTP = false + smtp.override_mail=1: MediaWiki's mail() calls ============================
echo "--- mail(): \$wgSMTP = false + smtp.override_mail=1"
settings mail "$good_port"
send "${php[@]}" -d smtp.override_mail=1 -d smtp.host=127.0.0.1 -- \
    --to 'Ann <ann@example.test>' --from wiki@example.test \
    --subject "$subject" --body "$body"
expect "mail(): UserMailer::send() returns a good Status" 'r.get("good") is True'
expect "mail(): one message, envelope sender from -f (bounces@)" \
    'len(msgs) == 1' \
    'msgs[0].env["rcpt_to"] == ["ann@example.test"]' \
    'msgs[0].env["mail_from"] == "bounces@example.test"'
expect "mail(): MediaWiki's encoded subject is not encoded twice; body intact" \
    "msgs[0].msg['Subject'] == '$subject'" \
    "msgs[0].text.strip() == '$body'" \
    '"smtp_send" not in log and "Sent" not in log'
# Several recipients: MediaWiki passes ['To' => 'undisclosed-recipients:;'] in mail()'s array
# headers, which PHP 8's own mail() refuses with this ValueError before sending anything; the
# extension's mail() must do exactly the same (never less strict than PHP).
send "${php[@]}" -d smtp.override_mail=1 -d smtp.host=127.0.0.1 -- \
    --to 'Ann <ann@example.test>,bob@example.test' --from wiki@example.test \
    --subject "$subject" --body "$body"
expect "mail(), several recipients: PHP's own ValueError for a To in the array headers, nothing sent" \
    'r.get("exception") == {"class": "ValueError", "message": "The additional headers cannot contain the \"To\" header"}' \
    'len(msgs) == 0'

web --subject "$subject" --text 'Hello Bob, this is Alice, via mail().'
expect "web mail(): the page says 'Email sent' and Bob gets the mail" \
    'r.get("sent") is True' 'len(msgs) == 1' \
    'msgs[0].env["rcpt_to"] == ["bob@example.test"]' \
    '"via mail()." in msgs[0].text'

# === d. failures ===================================================================================
echo "--- failures"
settings hook "$refuse_port"
send "${php[@]}" -- --to ann@example.test --from wiki@example.test --subject "$subject" --body "$body"
expect "hook, sender refused: Status not OK, carries the server's words; nothing sent" \
    'r.get("ok") is False and r.get("exception") is None' \
    'r["errors"][0]["message"] == "php-mail-error"' \
    "'$refusal' in err" 'err.startswith("The mail could not be sent: the server refused the sender")' \
    'len(msgs) == 0'

settings hook "$down_port"
send "${php[@]}" -- --to ann@example.test --from wiki@example.test --subject "$subject" --body "$body"
expect "hook, server down: Status not OK, says the connection was refused" \
    'r.get("ok") is False' "'connection to 127.0.0.1:$down_port refused' in err" 'len(msgs) == 0'

settings hook "$refuse_port"
web --subject "$subject" --text 'This one must fail.'
expect "web hook, sender refused: the form shows the server's words, no 'Email sent'" \
    'r.get("sent") is False' 'r.get("title") == "Email this user"' \
    "'$refusal' in r.get('error', '')" 'len(msgs) == 0'

settings mail "$down_port"
send "${php[@]}" -d smtp.override_mail=1 -d smtp.host=127.0.0.1 -- \
    --to ann@example.test --from wiki@example.test --subject "$subject" --body "$body"
expect "mail(), server down: Status not OK, says the connection was refused" \
    'r.get("ok") is False' 'r["errors"][0]["message"] == "php-mail-error"' \
    "'connection to 127.0.0.1:$down_port refused' in err" 'len(msgs) == 0'

settings mail "$refuse_port"
web --subject "$subject" --text 'This one must fail too.'
expect "web mail(), sender refused: the form shows the server's words, no 'Email sent'" \
    'r.get("sent") is False' "'$refusal' in r.get('error', '')" 'len(msgs) == 0'

# === e. fallbacks ==================================================================================
echo "--- fallbacks"
settings hook-after "$good_port"
send "${php[@]}" -- --to ann@example.test --from wiki@example.test --subject "$subject" --body "$body"
expect "another transformer after SmtpMailer: sent from AlternateUserMailer, transformed" \
    'r.get("good") is True and len(msgs) == 1' \
    'msgs[0].msg["X-Transformed-After"] == "yes"' \
    '"in AlternateUserMailer" in log'

settings hook-after "$refuse_port"
send "${php[@]}" -- --to ann@example.test --from wiki@example.test --subject "$subject" --body "$body"
expect "another transformer after SmtpMailer, sender refused: UserMailer::send() throws" \
    'r.get("exception", {}).get("class") == "MediaWiki\\Extension\\SmtpMailer\\MailNotSentError"' \
    "'$refusal' in err" 'len(msgs) == 0'

web --subject "$subject" --text 'This one must fail as well.'
expect "web, another transformer, sender refused: error page 'Mail not sent', no 'Email sent'" \
    'r.get("sent") is False' 'r.get("title") == "Mail not sent"' \
    "'$refusal' in r.get('text', '')" 'len(msgs) == 0'

settings hook "$good_port"
send "$PHP" -d display_errors=stderr -- --to ann@example.test --from wiki@example.test \
    --subject "$subject" --body "$body"
expect "smtp PHP extension not loaded: MediaWiki's PEAR path sends, SmtpMailer stays out" \
    'r.get("good") is True and len(msgs) == 1' \
    'msgs[0].env["rcpt_to"] == ["ann@example.test"]' \
    "msgs[0].msg['Subject'] == '$subject'" \
    '"smtp PHP extension is not loaded" in log'

# Nothing should have reached the refusing server's mailbox.
check "the refusing server recorded no message" \
    test -z "$(find "$work/rec-refused" -name '*.eml' 2>/dev/null)"
if grep -q -i -E 'PHP (Fatal|Warning)' "$work/web.log"; then
    check "no PHP errors in the web server's log" false
    grep -i -E 'PHP (Fatal|Warning)' "$work/web.log" | head -5
else
    check "no PHP errors in the web server's log" true
fi

finish
