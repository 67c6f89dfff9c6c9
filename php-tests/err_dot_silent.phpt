--TEST--
Errors: the server goes silent after the message: SmtpDeliveryUnknownException after smtp.max_time (not smtp.timeout), "may have been delivered", never retried; the server has the message
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=0.5
smtp.max_time=2
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--action', 'DOT=silent']);
ini_set('smtp.port', (string) $srv['port']);

$t = hrtime(true);
try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpDeliveryUnknownException $e) {
    $secs = (hrtime(true) - $t) / 1e9;
    smtp_show_exception($e);
    echo "an SmtpException: ", var_export($e instanceof SmtpException, true), "\n";
    echo "unknown: ", implode(',', $e->unknown), "; delivered: ", count($e->delivered),
        "; undelivered: ", count($e->undelivered), "\n";
}
echo $secs >= 1.8 && $secs < 3 ? "waited smtp.max_time\n" : sprintf("took %.2f s\n", $secs);
$all = smtp_received_all($srv['dir'], 1, 2);
echo count($all), " message(s) at the server, reply: ", var_export($all[0]['reply'], true), "\n";
$st = smtp_stats();
echo "unknown: {$st['unknown']}, failures: {$st['failures']}, retries: {$st['retries']}\n";
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECTF--
SmtpDeliveryUnknownException(0): smtp_send(): no reply from 127.0.0.1:%d before the time for the whole call ran out (smtp.max_time = 2 s) after the end of the message. The server has the whole message (Message-ID <%s@id.example.test>) but its final reply never came, so it may have been delivered to <to@example.test>: do not send it again blindly; check the recipient's mailbox or the server's log for that Message-ID first
an SmtpException: true
unknown: to@example.test; delivered: 0; undelivered: 0
waited smtp.max_time
1 message(s) at the server, reply: NULL
unknown: 1, failures: 0, retries: 0
connections: 1
