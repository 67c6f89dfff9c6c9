--TEST--
smtp.max_rate: with smtp.max_rate=1/min the first mail goes at once; the next one's turn is a minute away, past smtp.max_time, so it fails at once before MAIL FROM (smtp_send() throws, mail() warns and returns false) with the limit and the fix
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.timeout=5
smtp.max_time=3
smtp.pool=1
smtp.max_rate=1/min
smtp.override_mail=1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
smtp_send('to@example.test', 'one', "Body\n", ['From' => 'wiki@example.test']);
echo count(smtp_received($srv['dir'], 1)), " received\n";
$t = microtime(true);
try {
    smtp_send('to@example.test', 'two', "Body\n", ['From' => 'wiki@example.test']);
} catch (SmtpException $e) {
    echo get_class($e), ' (code ', $e->getCode(), '): ', $e->getMessage(), "\n";
}
var_dump(mail('to@example.test', 'three', "Body\n", 'From: wiki@example.test'));
echo microtime(true) - $t < 3 ? "refused at once\n" : "waited\n";
echo count(smtp_received_all($srv['dir'])), " received\n";
echo substr_count(smtp_transcript($srv['dir']), 'C: MAIL FROM'), " MAIL FROM\n";
?>
--EXPECTF--
1 received
SmtpException (code 0): smtp_send(): smtp.max_rate (1/min) lets one message go to 127.0.0.1 every 61.20 s from this machine, and the turns for the next %f s are taken by other sends; this call could wait %f s (smtp.max_time, less the time kept for sending); the message was not sent. Trying again later is safe. Send fewer messages at once (spread them out, e.g. through a job queue), raise smtp.max_time so calls wait longer, or raise smtp.max_rate if the provider allows more

Warning: mail(): smtp.max_rate (1/min) lets one message go to 127.0.0.1 every 61.20 s from this machine, %s in %s on line %d
bool(false)
refused at once
1 received
1 MAIL FROM
