--TEST--
TLS: STARTTLS with smtp.cafile = the test CA; EHLO again after the handshake; json tls true
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
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key"]);
ini_set('smtp.port', (string) $srv['port']);

smtp_send('to@example.test', 'Over STARTTLS', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), tls: ", var_export($r[0]['tls'], true), "\n";
$t = smtp_transcript($srv['dir']);
preg_match_all('/^1 (C: (?:EHLO|STARTTLS|MAIL)\b.*|TLS)$/m', $t, $m);
echo implode("\n", $m[1]), "\n";
?>
--EXPECT--
1 message(s), tls: true
C: EHLO client.example.test
C: STARTTLS
TLS
C: EHLO client.example.test
C: MAIL FROM:<wiki@example.test>
