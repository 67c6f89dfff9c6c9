--TEST--
Errors: MAIL FROM refused with 550: code 550, the server's words and the $wgPasswordSender hint; nothing delivered
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--reply', 'MAIL=550 5.7.1 you are not authorized to use this sender']);
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'Wiki <wiki@example.test>']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
echo "message data sent: ", var_export(str_contains(smtp_transcript($srv['dir']), '<data'), true), "\n";
?>
--EXPECT--
SmtpException(550): smtp_send(): the server refused the sender <wiki@example.test>; the server said: "550 5.7.1 you are not authorized to use this sender". Use the address of the SMTP account as the From address (in MediaWiki: $wgPasswordSender), or ask the provider to allow this sender; the message was not sent.
0 message(s)
message data sent: false
