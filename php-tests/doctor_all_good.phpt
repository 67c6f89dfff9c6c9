--TEST--
Doctor: STARTTLS with the trusted CA, AUTH and an accepted sender: ok, every step ok, and the sender check is MAIL then RSET (no DATA, no mail sent)
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
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--auth-user', 'wiki', '--auth-pass', 'right', '--auth-requires-tls', '--require-auth']);

$r = smtp_diagnose(['port' => $srv['port'], 'cafile' => "$certs/ca.pem", 'auth' => true,
    'username' => 'wiki', 'password' => 'right', 'from' => 'wiki@example.test']);
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}", $s['fix'] === null ? '' : " (fix: {$s['fix']})", "\n";
}
$step = array_column($r['steps'], null, 'step');
echo "tls: {$step['tls']['detail']}\n";
echo "auth: {$step['auth']['detail']}\n";
echo "sender: {$step['sender']['detail']}\n";
$cmds = smtp_client_lines(smtp_transcript($srv['dir'], '/CLOSE/'));
echo "commands: ", implode(', ', array_map(fn($c) => strtok($c, ' '), $cmds)), "\n";
echo "MAIL: ", implode('', preg_grep('/^MAIL/', $cmds)), "\n";
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
echo "messages sent: ", smtp_stats()['messages_sent'], "\n";
?>
--EXPECTF--
ok: true
settings: ok
dns: ok
connect: ok
greeting: ok
ehlo: ok
tls: ok
extensions: ok
auth: ok
sender: ok
tls: encrypted (TLS 1.%s, %s), certificate verified
auth: logged in as wiki
sender: the server accepts mail from <wiki@example.test> (250 2.1.0 Ok)
commands: EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, RSET, QUIT
MAIL: MAIL FROM:<wiki@example.test>
0 message(s)
messages sent: 0
