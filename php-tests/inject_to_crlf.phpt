--TEST--
Header injection: CR/LF in $to is refused (smtp_send: SmtpException, mail(): false + warning); nothing is sent
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
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send("to@example.test\r\nBcc: evil@example.test", 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
var_dump(mail("to@example.test\nBcc: evil@example.test", 'Subject', "Body\n", 'From: wiki@example.test'));
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECTF--
SmtpException(0): smtp_send(): invalid email address "to@example.test  Bcc: evil@example.test" (not an address or a group); write addresses as user@example.org or Name <user@example.org>

Warning: mail(): invalid email address "to@example.test Bcc: evil@example.test" (not an address or a group); %s in %s on line %d
bool(false)
connections: 0
0 message(s)
