--TEST--
mail() override: a failed send is false plus "Warning: mail(): <message>", no exception
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.override_mail=1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
ini_set('smtp.port', (string) smtp_free_port());

try {
    var_dump(mail('to@example.test', 'Refused', "Body\n", 'From: wiki@example.test'));
} catch (Throwable $e) {
    echo "exception?! ", get_class($e), "\n";
}
$srv = smtp_test_server(['--reply', 'MAIL=550 5.7.1 you are not authorized to use this sender']);
ini_set('smtp.port', (string) $srv['port']);
var_dump(mail('to@example.test', 'Refused sender', "Body\n", 'From: wiki@example.test'));
?>
--EXPECTF--
Warning: mail(): connection to 127.0.0.1:%d refused: no SMTP server is listening there. Check smtp.host and smtp.port: %s in %s on line %d
bool(false)

Warning: mail(): the server refused the sender <wiki@example.test>; the server said: "550 5.7.1 you are not authorized to use this sender". Use the address of the SMTP account as the From address (in MediaWiki: $wgPasswordSender), %s in %s on line %d
bool(false)
