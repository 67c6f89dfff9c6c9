--TEST--
Auth: an smtp.password_file that cannot be read is an SmtpException naming the file, never a password; nothing is sent
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=PLAIN
smtp.username=wiki
smtp.pool=0
smtp.password_file={PWD}/inc/no-such-password-file
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'x']);
ini_set('smtp.port', (string) $srv['port']);
try {
    smtp_send('to@example.test', 'Missing file', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECTF--
SmtpException(0): smtp_send(): invalid setting: password_file "%s/inc/no-such-password-file" cannot be read (not found); it must be readable by the PHP worker's user
connections: 0
