--TEST--
mail() override: no -f, no From and no sendmail_from: false and a warning; nothing is sent
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
sendmail_from=
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

var_dump(mail('to@example.test', 'No sender', "Body\n"));
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECTF--
Warning: mail(): no sender: add a From header (for example "From: wiki@example.org"), or set sendmail_from in php.ini in %s on line %d
bool(false)
connections: 0
