--TEST--
TLS: a certificate from a private CA without smtp.cafile is "not trusted" (unknown issuer); nothing is sent
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
$srv = smtp_test_server(['--tls', 'implicit', '--cert', "$certs/good.pem", '--key', "$certs/good.key"]);
ini_set('smtp.host', 'ssl://127.0.0.1');
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Untrusted', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
SmtpException(0): smtp_send(): the TLS certificate of 127.0.0.1 is not trusted: it is self-signed or issued by an unknown certificate authority. If the server uses a private CA, set smtp.cafile to that CA's certificate (PEM); otherwise install a certificate from a public CA on the server
0 message(s)
