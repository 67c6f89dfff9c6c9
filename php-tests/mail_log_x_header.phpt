--TEST--
mail() override: with mail.add_x_header=1 the mail.log line shows the caller's headers only, as PHP's own mail() does
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
mail.add_x_header=1
mail.log={TMP}/php-smtp-phpt-mail_log_x_header.log
sendmail_path=/bin/sh {PWD}/inc/fake_sendmail
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
$log = ini_get('mail.log');
@unlink($log);
$tmp = smtp_test_tmpdir();
putenv("SMTP_PHPT_SENDMAIL_OUT=$tmp/sendmail.out");

function send_one() { return mail('to@example.test', 'Logged', "Body\n", 'From: wiki@example.test'); }
var_dump(send_one());                       // PHP's own mail()
ini_set('smtp.override_mail', '1');
var_dump(send_one());                       // the extension
$r = smtp_received($srv['dir']);
echo count($r), " message(s) over SMTP, with X-PHP-Originating-Script: ", var_export(str_contains($r[0]['eml'], "X-PHP-Originating-Script: "), true), "\n";
echo "sendmail copy has it too: ", var_export(str_contains(file_get_contents("$tmp/sendmail.out"), "X-PHP-Originating-Script: "), true), "\n";

$headers = array_map(fn($l) => preg_match('/ -- Headers: (.*) -- Subject: /', $l, $m) ? $m[1] : '?', file($log, FILE_IGNORE_NEW_LINES));
echo "php:  $headers[0]\n";
echo "smtp: $headers[1]\n";
?>
--CLEAN--
<?php @unlink(sys_get_temp_dir() . '/php-smtp-phpt-mail_log_x_header.log'); ?>
--EXPECT--
bool(true)
bool(true)
1 message(s) over SMTP, with X-PHP-Originating-Script: true
sendmail copy has it too: true
php:  From: wiki@example.test
smtp: From: wiki@example.test
