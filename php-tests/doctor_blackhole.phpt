--TEST--
Doctor: a port that accepts and never speaks: the greeting step fails within smtp.timeout, the fix points to implicit TLS (ssl://)
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--action', 'CONNECT=silent']);

$t = hrtime(true);
$r = smtp_diagnose(['port' => $srv['port'], 'from' => 'wiki@example.test']);
$secs = (hrtime(true) - $t) / 1e9;
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}\n";
}
$step = array_column($r['steps'], null, 'step');
echo "greeting: {$step['greeting']['detail']}\n";
$fix = (string) $step['greeting']['fix'];
echo "fix names the port: ", var_export(str_contains($fix, "127.0.0.1:{$srv['port']}"), true), "\n";
echo "fix mentions implicit TLS: ", var_export(str_contains($fix, 'implicit TLS'), true), "\n";
echo "fix mentions ssl://: ", var_export(str_contains($fix, 'ssl://'), true), "\n";
echo "fix mentions 465: ", var_export(str_contains($fix, '465'), true), "\n";
echo "skipped steps have no fix: ", var_export($step['ehlo']['fix'] === null && $step['sender']['fix'] === null, true), "\n";
echo $secs < 3 ? "fast enough\n" : sprintf("took %.2f s\n", $secs);
echo $secs >= 0.9 ? "waited the timeout\n" : sprintf("gave up early: %.2f s\n", $secs);
?>
--EXPECT--
ok: false
settings: ok
dns: ok
connect: ok
greeting: failed
ehlo: skipped
tls: skipped
extensions: skipped
auth: skipped
sender: skipped
greeting: the server accepted the connection but sent no greeting within 1 s
fix names the port: true
fix mentions implicit TLS: true
fix mentions ssl://: true
fix mentions 465: true
skipped steps have no fix: true
fast enough
waited the timeout
