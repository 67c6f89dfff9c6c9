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
SmtpException(0): smtp_send(): the TLS certificate of 127.0.0.1 is not trusted: the server sent only its own certificate, issued by "php-smtp Test CA", and no intermediate certificate. If that issuer belongs to a public CA, the server sent no intermediate certificate: ask its admin to send the full chain (e.g. fullchain.pem, not cert.pem). If it is a private CA, set smtp.cafile in php.ini to that CA's certificate
0 message(s)
