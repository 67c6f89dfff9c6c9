--TEST--
mail() override: mail.log gets one line per mail() call with script, line, To, headers and Subject
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
mail.log={TMP}/php-smtp-phpt-mail_log.log
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
$log = ini_get('mail.log');
@unlink($log);

var_dump(mail('to@example.test', 'Logged', "Body\n", "From: wiki@example.test\r\nX-A: 1"));
echo file_get_contents($log);
echo count(smtp_received($srv['dir'])), " message(s)\n";
?>
--CLEAN--
<?php @unlink(sys_get_temp_dir() . '/php-smtp-phpt-mail_log.log'); ?>
--EXPECTF--
bool(true)
[%s] mail() on [%smail_log.php:%d]: To: to@example.test -- Headers: From: wiki@example.test%sX-A: 1 -- Subject: Logged
1 message(s)
