--TEST--
TLS: an expired certificate (from the trusted CA): "has expired"
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
$srv = smtp_test_server(['--tls', 'implicit', '--cert', "$certs/expired.pem", '--key', "$certs/expired.key"]);
ini_set('smtp.host', 'ssl://127.0.0.1');
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Expired', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
SmtpException(0): smtp_send(): the TLS certificate of 127.0.0.1 has expired. The server's administrator must renew it (also check that this machine's clock is right)
0 message(s)
