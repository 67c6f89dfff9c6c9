--TEST--
TLS: a certificate for another name: "not valid for the name" and the names it is valid for
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
$srv = smtp_test_server(['--tls', 'implicit', '--cert', "$certs/wrongname.pem", '--key', "$certs/wrongname.key"]);
ini_set('smtp.host', 'ssl://127.0.0.1');
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Wrong name', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
SmtpException(0): smtp_send(): the TLS certificate of 127.0.0.1 is not valid for the name "127.0.0.1"; it is valid for: wrong.example.test. Set smtp.host to one of these names
0 message(s)
