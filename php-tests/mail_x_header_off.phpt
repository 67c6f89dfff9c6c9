--TEST--
mail() override: mail.add_x_header=0 adds no X-PHP-Originating-Script
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
mail.add_x_header=0
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

var_dump(mail('to@example.test', 'No X header', "Body\n", 'From: wiki@example.test'));
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "has X-PHP-Originating-Script: ", var_export(str_contains($r[0]['eml'], 'X-PHP-Originating-Script'), true), "\n";
?>
--EXPECT--
bool(true)
1 message(s)
has X-PHP-Originating-Script: false
