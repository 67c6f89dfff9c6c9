--TEST--
TLS: an smtp.cafile that holds no PEM certificate is an "invalid setting" error naming the file; nothing is sent
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=ssl://127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.cafile={PWD}/inc/not-a-certificate.pem
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$srv = smtp_test_server(['--tls', 'implicit', '--cert', "$certs/good.pem", '--key', "$certs/good.key"]);
ini_set('smtp.port', (string) $srv['port']);
try {
    smtp_send('to@example.test', 'Bad cafile', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    echo $e->getMessage(), "\n";
}
echo count(smtp_received_all($srv['dir'])), " message(s)\n";
?>
--EXPECTF--
smtp_send(): invalid setting: cafile "%s/inc/not-a-certificate.pem" holds no PEM certificate
0 message(s)
