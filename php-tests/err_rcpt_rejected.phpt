--TEST--
Errors: one recipient refused (550) fails the whole send with code 550; the other recipients get nothing
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
$srv = smtp_test_server(['--reject-rcpt', 'nobody']);
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('alice@example.test, nobody@example.test, carol@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
echo "message data sent: ", var_export(str_contains(smtp_transcript($srv['dir']), '<data'), true), "\n";

// The next send (a good one) still works and reaches only its recipient.
smtp_send('alice@example.test', 'Next', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s): ", implode(' ', $r[0]['rcpt_to']), " / ", array_column(smtp_headers($r[0]['eml']), 1, 0)['Subject'], "\n";
?>
--EXPECT--
SmtpException(550): smtp_send(): the server refused the recipient <nobody@example.test>; the server said: "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown". Check the address; no message was sent to any recipient.
0 message(s)
message data sent: false
1 message(s): alice@example.test / Next
