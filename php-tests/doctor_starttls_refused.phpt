--TEST--
Doctor: the server offers STARTTLS but answers it with 454: the tls step fails with the server's words and the implicit TLS hint
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
    '--reply', 'STARTTLS=454 4.7.0 TLS not available']);

$r = smtp_diagnose(['port' => $srv['port'], 'cafile' => "$certs/ca.pem", 'from' => 'wiki@example.test']);
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}\n";
}
$step = array_column($r['steps'], null, 'step');
echo "tls: {$step['tls']['detail']}\n";
echo "tls fix: {$step['tls']['fix']}\n";
$cmds = smtp_client_lines(smtp_transcript($srv['dir'], '/CLOSE/'));
echo "no MAIL after the refusal: ", var_export(!preg_grep('/^MAIL/', $cmds), true), "\n";
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
tls: the server said "454 4.7.0 TLS not available"
tls fix: the SMTP server cannot start TLS right now (STARTTLS); the server said: "454 4.7.0 TLS not available". TLS is temporarily unavailable on the server: try again later, or ask its administrator
no MAIL after the refusal: true
