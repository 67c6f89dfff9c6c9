--TEST--
Doctor: connection refused: the connect step fails, later steps are skipped, and the fix lists what the usual ports (587, 465, 25) do
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$port = smtp_free_port();

$r = smtp_diagnose(['port' => $port, 'from' => 'wiki@example.test']);
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}\n";
}
$step = array_column($r['steps'], null, 'step');
echo "settings: {$step['settings']['detail']}\n";
echo "connect: {$step['connect']['detail']}\n";
$fix = (string) $step['connect']['fix'];
echo "fix: ", strstr($fix, '. Other ports', true), "\n";
// What each of the other ports does depends on the machine: only the shape is fixed.
echo "other ports listed: ", var_export((bool) preg_match('/\. Other ports on this host: 587 [^;]+; 465 [^;]+; 25 [^;]+$/', $fix), true), "\n";
?>
--EXPECTF--
ok: false
settings: ok
dns: ok
connect: failed
greeting: skipped
ehlo: skipped
tls: skipped
extensions: skipped
auth: skipped
sender: skipped
settings: 127.0.0.1:%d (STARTTLS when offered), no login, timeout 5 s
connect: connection refused
fix: connection to 127.0.0.1:%d refused: no SMTP server is listening there. Check smtp.host and smtp.port: submission is usually port 587 (STARTTLS) or 465 (implicit TLS, host prefix ssl://); port 25 is often blocked by hosting providers
other ports listed: true
