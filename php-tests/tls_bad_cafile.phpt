--TEST--
TLS: an smtp.cafile that is missing is an "invalid setting" error naming the file; a script cannot set one per call; nothing is sent
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=ssl://127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.cafile={PWD}/inc/no-such-ca.pem
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
// A script may not choose the trust anchors, nor turn verification off.
foreach (['cafile' => "$certs/ca.pem", 'verify_peer' => false] as $k => $v) {
    try {
        smtp_send('to@example.test', 'Per call', "Body\n", ['From' => 'wiki@example.test'], [$k => $v]);
        echo "sent?!\n";
    } catch (SmtpException $e) {
        echo $e->getMessage(), "\n";
    }
}
var_dump(ini_set('smtp.cafile', "$certs/ca.pem"), ini_set('smtp.verify_peer', '0'));
echo count(smtp_received_all($srv['dir'])), " message(s)\n";
?>
--EXPECTF--
smtp_send(): invalid setting: cafile "%s/inc/no-such-ca.pem" cannot be read as PEM certificates: %s
smtp_send(): invalid setting: option "cafile" can only be set by the administrator (smtp.cafile in php.ini, or php_admin_value in the PHP-FPM pool), not per call
smtp_send(): invalid setting: option "verify_peer" can only be set by the administrator (smtp.verify_peer in php.ini, or php_admin_value in the PHP-FPM pool), not per call
bool(false)
bool(false)
0 message(s)
