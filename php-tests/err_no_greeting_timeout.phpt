--TEST--
Errors: a server that accepts but never greets fails within smtp.timeout; the message says "no answer" and suggests 587
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--action', 'CONNECT=silent']);
ini_set('smtp.port', (string) $srv['port']);

$t = hrtime(true);
try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    $secs = (hrtime(true) - $t) / 1e9;
    smtp_show_exception($e);
}
echo $secs < 3 ? "fast enough\n" : sprintf("took %.2f s\n", $secs);
echo $secs >= 0.9 ? "waited the timeout\n" : sprintf("gave up early: %.2f s\n", $secs);
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECTF--
SmtpException(0): smtp_send(): no answer from 127.0.0.1:%d within 1 s (smtp.timeout) (waiting for the server's greeting). Wrong port? Try 587 (STARTTLS) or 465 (with the ssl:// host prefix); %s
fast enough
waited the timeout
0 message(s)
