--TEST--
mail() with smtp.override_mail=0 is PHP's own mail() (sendmail_path); the SMTP server gets nothing
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.override_mail=0
sendmail_path=/bin/sh {PWD}/inc/fake_sendmail
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
$tmp = smtp_test_tmpdir();
putenv("SMTP_PHPT_SENDMAIL_OUT=$tmp/sendmail.out");

var_dump(mail('to@example.test', 'Via sendmail', "Body\n", 'From: wiki@example.test', '-f bounce@example.test'));
echo "sendmail got: ", json_encode(file_get_contents("$tmp/sendmail.out")), "\n";
echo "sendmail args: ", implode(' ', file("$tmp/sendmail.out.args", FILE_IGNORE_NEW_LINES)), "\n";
echo "connections to the SMTP server: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";

// Turned on at run time, the next mail() goes over SMTP.
ini_set('smtp.override_mail', '1');
unlink("$tmp/sendmail.out");
var_dump(mail('to@example.test', 'Via SMTP', "Body\n", 'From: wiki@example.test'));
echo "sendmail called again: ", var_export(file_exists("$tmp/sendmail.out"), true), "\n";
echo count(smtp_received($srv['dir'])), " message(s) over SMTP\n";
?>
--EXPECT--
bool(true)
sendmail got: "To: to@example.test\r\nSubject: Via sendmail\r\nFrom: wiki@example.test\r\n\r\nBody\n\r\n"
sendmail args: -f bounce@example.test
connections to the SMTP server: 0
bool(true)
sendmail called again: false
1 message(s) over SMTP
