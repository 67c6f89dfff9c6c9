--TEST--
Doctor: a self-signed certificate over STARTTLS, no cafile: the tls step fails with "not trusted" and the cafile hint; no AUTH, no MAIL
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$srv = smtp_test_server(['--starttls', '--cert', "$certs/selfsigned.pem", '--key', "$certs/selfsigned.key",
    '--auth-user', 'wiki', '--auth-pass', 'right']);

$r = smtp_diagnose(['port' => $srv['port'], 'auth' => true, 'username' => 'wiki', 'password' => 'right',
    'from' => 'wiki@example.test']);
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}\n";
}
$step = array_column($r['steps'], null, 'step');
echo "ehlo: {$step['ehlo']['detail']}\n";
echo "tls fix: {$step['tls']['fix']}\n";
$cmds = smtp_client_lines(smtp_transcript($srv['dir'], '/CLOSE/'));
echo "commands: ", implode(', ', array_map(fn($c) => strtok($c, ' '), $cmds)), "\n";
?>
--EXPECT--
ok: false
settings: ok
dns: ok
connect: ok
greeting: ok
ehlo: ok
tls: failed
extensions: skipped
auth: skipped
sender: skipped
ehlo: the server offers PIPELINING, 8BITMIME, STARTTLS, SMTPUTF8, SIZE 10485760, AUTH PLAIN LOGIN XOAUTH2
tls fix: the TLS certificate of 127.0.0.1 is self-signed, so nothing vouches for it. Save that certificate (PEM) on this machine and set smtp.cafile in php.ini to it, or give the server a certificate from a CA
commands: EHLO, STARTTLS
