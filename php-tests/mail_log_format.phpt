--TEST--
mail() override: the mail.log line is the same as PHP's own mail() writes (date format included)
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
mail.log={TMP}/php-smtp-phpt-mail_log_format.log
sendmail_path=/bin/sh {PWD}/inc/fake_sendmail
date.timezone=UTC
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
$log = ini_get('mail.log');
@unlink($log);
$tmp = smtp_test_tmpdir();
putenv("SMTP_PHPT_SENDMAIL_OUT=$tmp/sendmail.out");

// The same call, once through PHP's own mail() and once through the extension.
function send_one() { return mail('to@example.test', 'Logged', "Body\n", "From: wiki@example.test\r\nX-A: 1"); }
var_dump(send_one());
ini_set('smtp.override_mail', '1');
var_dump(send_one());
echo count(smtp_received($srv['dir'])), " message(s) over SMTP\n";

$lines = file($log, FILE_IGNORE_NEW_LINES);
echo count($lines), " log lines\n";
echo "php:  $lines[0]\n";
echo "smtp: $lines[1]\n";
// PHP turns each CR and LF of the headers into a space ("\r\n" -> two spaces).
// Same text once the time stamps are masked (both calls are on the same script line).
$mask = fn($l) => preg_replace('/^\[[^\]]*\]/', '[DATE]', $l);
echo "same apart from the time: ", var_export($mask($lines[0]) === $mask($lines[1]), true), "\n";
$date = fn($l) => preg_replace('/\d/', 'N', substr($l, 0, strpos($l, ']') + 1));
echo "same date format: ", var_export($date($lines[0]) === $date($lines[1]), true), "\n";
?>
--CLEAN--
<?php @unlink(sys_get_temp_dir() . '/php-smtp-phpt-mail_log_format.log'); ?>
--EXPECTF--
bool(true)
bool(true)
1 message(s) over SMTP
2 log lines
php:  [%d-%s-%d %d:%d:%d UTC] mail() on [%smail_log_format.php:%d]: To: to@example.test -- Headers: From: wiki@example.test  X-A: 1 -- Subject: Logged
smtp: [%d-%s-%d %d:%d:%d UTC] mail() on [%smail_log_format.php:%d]: To: to@example.test -- Headers: From: wiki@example.test  X-A: 1 -- Subject: Logged
same apart from the time: true
same date format: true
