--TEST--
Doctor: a certificate (from the trusted CA) for another name: the tls step fails with "not valid for the name" and the names it holds
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
$srv = smtp_test_server(['--starttls', '--cert', "$certs/wrongname.pem", '--key', "$certs/wrongname.key"]);

// With the CA trusted the chain is fine and the name is what is wrong (without a cafile the
// unknown issuer is reported first: see doctor_tls_untrusted.phpt).
$r = smtp_diagnose(['port' => $srv['port'], 'cafile' => "$certs/ca.pem", 'from' => 'wiki@example.test']);
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}\n";
}
$step = array_column($r['steps'], null, 'step');
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
tls fix: the TLS certificate of 127.0.0.1 is not valid for the name "127.0.0.1"; it is valid for: wrong.example.test. Set smtp.host to one of these names
commands: EHLO, STARTTLS
