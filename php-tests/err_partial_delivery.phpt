--TEST--
Errors: the server takes 2 recipients per message and refuses the third (452 4.2.2 mailbox full) in the second transaction: SmtpPartialDeliveryException with who got it and who did not; the first two got it once
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
$srv = smtp_test_server(['--rcpt-limit', '2', '--rcpt-reply', 'c@=452 4.2.2 Mailbox full']);
ini_set('smtp.port', (string) $srv['port']);
try {
    smtp_send(['a@example.test', 'b@example.test', 'c@example.test'], 'Partial', "Body\n",
        ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpPartialDeliveryException $e) {
    smtp_show_exception($e);
    echo "an SmtpException: ", var_export($e instanceof SmtpException, true), "\n";
    echo "delivered: ", implode(', ', $e->delivered), "\n";
    echo "undelivered: ", implode(', ', $e->undelivered), "\n";
}
$r = smtp_received($srv['dir'], 1);
echo count($r), " message(s), to: ", implode(', ', $r[0]['rcpt_to']), "\n";
echo "partial: ", smtp_stats()['partial'], "\n";
?>
--EXPECT--
SmtpPartialDeliveryException(452): smtp_send(): the message was delivered to <a@example.test>, <b@example.test>, but not to <c@example.test>: the server refused the recipient <c@example.test>; the server said: "452 4.2.2 Mailbox full". Check the address. This is a temporary failure: try again later. Send it again only to those it did not reach
an SmtpException: true
delivered: a@example.test, b@example.test
undelivered: c@example.test
1 message(s), to: a@example.test, b@example.test
partial: 1
