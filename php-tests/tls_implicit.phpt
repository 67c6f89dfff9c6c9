--TEST--
TLS: implicit TLS with host ssl://127.0.0.1 and smtp.cafile; json tls true
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.cafile={PWD}/.certs/ca.pem
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$srv = smtp_test_server(['--tls', 'implicit', '--cert', "$certs/good.pem", '--key', "$certs/good.key"]);
ini_set('smtp.host', 'ssl://127.0.0.1');
ini_set('smtp.port', (string) $srv['port']);

smtp_send('to@example.test', 'Implicit TLS', "Body\n", ['From' => 'wiki@example.test']);
// tls:// is the same, here through the options array.
smtp_send('to@example.test', 'Implicit TLS 2', "Body\n", ['From' => 'wiki@example.test'], ['host' => 'tls://127.0.0.1']);
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s)\n";
foreach ($r as $m) {
    echo "tls: ", var_export($m['tls'], true), "\n";
}
echo "STARTTLS sent: ", var_export(str_contains(smtp_transcript($srv['dir']), 'C: STARTTLS'), true), "\n";
?>
--EXPECT--
2 message(s)
tls: true
tls: true
STARTTLS sent: false
