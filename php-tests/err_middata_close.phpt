--TEST--
Errors: the server closes the connection in the middle of DATA: "closed the connection", nothing recorded
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
--EXPECT--
SmtpException(0): smtp_send(): the SMTP server 127.0.0.1 closed the connection (sending the message or waiting for the server to accept it); the message was not sent. The server may be overloaded or limit connections; try again later, and check its log
0 message(s) recorded
retries: 0
