--TEST--
Errors: a sender refused in the reply to RCPT TO (as Postfix does with smtpd_delay_reject) is reported as the sender, with the server's words and the $wgPasswordSender hint, not as a bad recipient
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
$srv = smtp_test_server(['--rcpt-reply',
    '@=553 5.7.1 <other@example.test>: Sender address rejected: not owned by user wiki@example.test']);
ini_set('smtp.port', (string) $srv['port']);
try {
    smtp_send('rcpt@example.test', 'Wrong From', "Body\n", ['From' => 'other@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received_all($srv['dir'])), " message(s)\n";
?>
--EXPECT--
SmtpException(553): smtp_send(): the server refused the sender <other@example.test>; the server said: "553 5.7.1 <other@example.test>: Sender address rejected: not owned by user wiki@example.test". Use the address of the SMTP account as the From address (in MediaWiki: $wgPasswordSender), or ask the provider to allow this sender; the message was not sent.
0 message(s)
