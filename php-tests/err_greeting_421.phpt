--TEST--
Errors: a 421 greeting: code 421, "refused the connection", temporary
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
$srv = smtp_test_server(['--reply', 'GREETING=421 4.3.2 Service not available, closing channel']);
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo "commands sent: ", json_encode(smtp_client_lines(smtp_transcript($srv['dir']))), "\n";
?>
--EXPECT--
SmtpException(421): smtp_send(): the SMTP server refused the connection; the server said: "421 4.3.2 Service not available, closing channel". This is a temporary failure: try again later.
commands sent: []
