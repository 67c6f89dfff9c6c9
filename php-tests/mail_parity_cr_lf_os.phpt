--TEST--
mail() parity with mail.cr_lf_mode=os (PHP 8.5+: the OS's line end (LF here) after PHP's own lines): the same header checks and outcomes with the override off and on; over SMTP every line still ends in CRLF
--EXTENSIONS--
smtp
--SKIPIF--
<?php
if (PHP_VERSION_ID < 80500) die('skip mail.cr_lf_mode is PHP 8.5+');
require __DIR__ . '/inc/skipif.inc';
?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.override_mail=0
sendmail_path=/bin/sh {PWD}/inc/fake_sendmail
sendmail_from=wiki@example.test
error_reporting=E_ALL
mail.cr_lf_mode=os
--FILE--
<?php
require __DIR__ . '/inc/mail_parity.inc';
echo "mode: ", ini_get('mail.cr_lf_mode'), "\n";
// What the mode changes: the line ends PHP itself writes to sendmail. SMTP's are CRLF.
ini_set('smtp.override_mail', '0');
var_dump(mail('to@example.test', 'S', "a\r\nb\nc\r\n", "From: $from\nX-B: 2"));
echo "sendmail got: ", json_encode(file_get_contents("$tmp/sendmail.out")), "\n";
ini_set('smtp.override_mail', '1');
$before = count(smtp_received($srv['dir'], 0, 0));
var_dump(mail('to@example.test', 'S', "a\r\nb\nc\r\n", "From: $from\nX-B: 2"));
$raw = array_slice(smtp_received($srv['dir'], $before + 1), -1)[0]['raw'];
echo "SMTP: ", preg_match('/(?<!\r)\n|\r(?!\n)/', $raw) ? 'a bare LF or CR' : 'CRLF only', ", body and end of data ", json_encode(substr($raw, strpos($raw, "\r\n\r\n") + 4)), "\n";
?>
--EXPECTF--
%Aall the same
envelope: to@example.test, cc@example.test, bcc@example.test
mode: os
bool(true)
sendmail got: "To: to@example.test\nSubject: S\nFrom: wiki@example.test\nX-B: 2\n\na\r\nb\nc\r\n\n"
bool(true)
SMTP: CRLF only, body and end of data "a\r\nb\r\nc\r\n.\r\n"
