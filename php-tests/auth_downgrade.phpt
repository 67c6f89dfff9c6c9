--TEST--
Auth: no clear-text password to a non-loopback host name (one that /etc/hosts maps to 127.x): without STARTTLS the send fails before AUTH, whatever smtp.starttls says
--EXTENSIONS--
smtp
--SKIPIF--
<?php
require __DIR__ . '/inc/skipif.inc';
/** A name other than localhost that resolves only to 127.x (as tests/common/mod.rs loopback_alias()). */
function loopback_alias(): ?string
{
    foreach (@file('/etc/hosts', FILE_IGNORE_NEW_LINES) ?: [] as $line) {
        $words = preg_split('/\s+/', trim(explode('#', $line)[0]));
        if (count($words) < 2 || !str_starts_with($words[0], '127.')) {
            continue;
        }
        foreach (array_slice($words, 1) as $name) {
            if (stripos($name, 'localhost') !== false) {
                continue;
            }
            $ips = gethostbynamel($name);
            if ($ips && !array_filter($ips, fn($ip) => !str_starts_with($ip, '127.'))) {
                return $name;
            }
        }
    }
    return null;
}
if (loopback_alias() === null) {
    die('skip /etc/hosts has no name other than localhost for 127.x');
}
?>
--INI--
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.pool=0
smtp.auth=1
smtp.username=wiki
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
function loopback_alias(): ?string
{
    foreach (@file('/etc/hosts', FILE_IGNORE_NEW_LINES) ?: [] as $line) {
        $words = preg_split('/\s+/', trim(explode('#', $line)[0]));
        if (count($words) < 2 || !str_starts_with($words[0], '127.')) {
            continue;
        }
        foreach (array_slice($words, 1) as $name) {
            if (stripos($name, 'localhost') !== false) {
                continue;
            }
            $ips = gethostbynamel($name);
            if ($ips && !array_filter($ips, fn($ip) => !str_starts_with($ip, '127.'))) {
                return $name;
            }
        }
    }
    return null;
}
$alias = loopback_alias();
ini_set('smtp.host', $alias);

function attempt(string $what, array $server_args, array $options): void
{
    global $alias;
    $srv = smtp_test_server(array_merge(['--auth-user', 'wiki', '--auth-pass', 'd0wngrade s3cret'], $server_args));
    try {
        smtp_send('to@example.test', $what, "Body\n", ['From' => 'wiki@example.test'], ['port' => $srv['port'], 'password' => 'd0wngrade s3cret'] + $options);
        echo "$what: sent?!\n";
    } catch (SmtpException $e) {
        echo "$what: ", str_replace($alias, 'ALIAS', strtok($e->getMessage(), '.')), "\n";
        echo "  password in the message: ", var_export(str_contains($e->getMessage(), 's3cret'), true), "\n";
    }
    $cmds = smtp_client_lines(smtp_transcript($srv['dir'], '/CLOSE/'));
    // QUIT or a plain close afterwards is the client's choice: what matters is no AUTH, no MAIL.
    echo "  commands: ", implode(', ', array_diff(array_map(fn($c) => strtok($c, ' '), $cmds), ['QUIT'])), "\n";
    echo "  ", count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
}

// The server offers AUTH but no STARTTLS (as after a man in the middle stripped it).
attempt('auto, no STARTTLS', [], []);
attempt('off, no STARTTLS', [], ['starttls' => 'off']);
// The server offers STARTTLS, but smtp.starttls=off forbids using it: still no clear-text AUTH.
$certs = smtp_test_certs();
attempt('off, STARTTLS offered', ['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key"], ['starttls' => 'off']);
?>
--EXPECT--
auto, no STARTTLS: smtp_send(): ALIAS does not offer STARTTLS, so the connection cannot be encrypted; nothing was sent (TLS is required by smtp
  password in the message: false
  commands: EHLO
  0 message(s)
off, no STARTTLS: smtp_send(): ALIAS does not offer STARTTLS, so the connection cannot be encrypted; nothing was sent (TLS is required by smtp
  password in the message: false
  commands: EHLO
  0 message(s)
off, STARTTLS offered: smtp_send(): refusing to send the SMTP password to ALIAS over an unencrypted connection
  password in the message: false
  commands: EHLO
  0 message(s)
