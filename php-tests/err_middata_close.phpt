--TEST--
Errors: the server closes the connection in the middle of DATA, after the client wrote the whole message: the outcome is unknown (SmtpDeliveryUnknownException), never "not sent", and nothing is retried
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
$srv = smtp_test_server(['--action', 'MIDDATA=close']);
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s) recorded\n";
echo "retries: ", smtp_stats()['retries'], "\n";
?>
--EXPECTF--
SmtpDeliveryUnknownException(0): smtp_send(): the SMTP server 127.0.0.1 closed the connection without replying to the end of the message. The server has the whole message (Message-ID <%s>) but its final reply never came, so it may have been delivered to <to@example.test>: do not send it again blindly; check the recipient's mailbox or the server's log for that Message-ID first
0 message(s) recorded
retries: 0
