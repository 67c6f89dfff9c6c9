--TEST--
smtp.max_rate: a value that is no rate (a day's quota, no unit) fails the call before anything is sent, naming the setting and the forms it takes
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.timeout=5
smtp.pool=0
smtp.max_rate=500/day
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
try {
    smtp_send('to@example.test', 's', "b\n", ['From' => 'wiki@example.test']);
} catch (SmtpException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
echo count(smtp_received_all($srv['dir'])), " received\n";
?>
--EXPECT--
SmtpException: smtp_send(): invalid setting: max_rate "500/day" is not valid: the unit is not s, min or h; give messages per second, minute or hour as N/s, N/min or N/h (e.g. 30/min for Exchange Online), or 0 for no limit
0 received
