--TEST--
mail() override: mail.add_x_header=1 adds X-PHP-Originating-Script: uid:script
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
mail.add_x_header=1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

var_dump(mail('to@example.test', 'X header', "Body\n", 'From: wiki@example.test'));
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
$hdr = array_column(smtp_headers($r[0]['eml']), 1, 0);
echo "X-PHP-Originating-Script: {$hdr['X-PHP-Originating-Script']}\n";
echo "uid is the script owner's: ", var_export($hdr['X-PHP-Originating-Script'] === getmyuid() . ':' . basename(__FILE__), true), "\n";
// smtp_send() is not mail(): no such header.
smtp_send('to@example.test', 'No X header', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir'], 2);
echo "smtp_send adds it: ", var_export(str_contains($r[1]['eml'], 'X-PHP-Originating-Script'), true), "\n";
?>
--EXPECTF--
bool(true)
1 message(s)
X-PHP-Originating-Script: %d:mail_x_header.php
uid is the script owner's: true
smtp_send adds it: false
