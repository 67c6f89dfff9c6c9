--TEST--
Errors: the server goes silent after the message: "stopped answering" within smtp.timeout
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
$srv = smtp_test_server(['--action', 'DOT=silent']);
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
echo count(smtp_received($srv['dir'], 0, 0)), " message(s) recorded\n";
?>
--EXPECTF--
SmtpException(0): smtp_send(): the SMTP server 127.0.0.1:%d stopped answering (sending the message or waiting for the server to accept it, no reply within 1 s); the message was not sent. Try again later, or raise smtp.timeout if the server is just slow
fast enough
0 message(s) recorded
