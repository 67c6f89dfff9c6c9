--TEST--
Errors: 451 after the message: code 451, the server's words and "temporary failure"
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
$srv = smtp_test_server(['--reply', 'DOT=451 4.3.0 Try again later']);
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s) recorded\n";
$s = smtp_stats();
echo "failures: {$s['failures']}, retries: {$s['retries']}\n";
?>
--EXPECT--
SmtpException(451): smtp_send(): the server did not accept the message; the server said: "451 4.3.0 Try again later". This is a temporary failure: try again later.
0 message(s) recorded
failures: 1, retries: 0
