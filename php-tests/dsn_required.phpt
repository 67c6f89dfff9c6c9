--TEST--
DSN to a server without it: the message goes without NOTIFY/RET/ENVID (debug log says so); with 'required' => true it fails before anything is sent, naming DSN
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.pool=0
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
$from = ['From' => 'wiki@example.test'];
smtp_send('a@example.test', 'one', "b\n", $from, ['dsn' => ['notify' => 'failure', 'envid' => 'x']]);
$m = smtp_received($srv['dir'])[0];
echo json_encode($m['mail_params']), ' ', json_encode($m['rcpt_params']), "\n";
try {
    smtp_send('b@example.test', 'two', "b\n", $from,
        ['dsn' => ['notify' => 'failure', 'required' => true]]);
    echo "sent\n";
} catch (SmtpException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
echo count(smtp_received_all($srv['dir'])), " message(s)\n";
?>
--EXPECTF--
[] [[]]
SmtpException: smtp_send(): 127.0.0.1 does not offer DSN (not in its EHLO reply), which the message requires for its delivery status notification options (dsn required); the message was not sent. Send through a server that offers DSN (RFC 3461), or drop 'required' to send without the notification options
1 message(s)
