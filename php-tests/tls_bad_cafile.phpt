--TEST--
TLS: an smtp.cafile that is missing or not PEM is an "invalid setting" error naming the file
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
$tmp = smtp_test_tmpdir();
file_put_contents("$tmp/empty.pem", "not a certificate\n");

foreach (["$tmp/missing.pem", "$tmp/empty.pem"] as $cafile) {
    try {
        smtp_send('to@example.test', 'Bad cafile', "Body\n", ['From' => 'wiki@example.test'], ['cafile' => $cafile]);
        echo "sent?!\n";
    } catch (SmtpException $e) {
        echo str_replace($tmp, 'TMP', $e->getMessage()), "\n";
    }
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECTF--
smtp_send(): invalid setting: cafile "TMP/missing.pem" cannot be read as PEM certificates: %s
smtp_send(): invalid setting: cafile "TMP/empty.pem" holds no PEM certificate
0 message(s)
