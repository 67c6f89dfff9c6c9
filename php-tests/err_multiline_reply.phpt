--TEST--
Errors: a multi-line error reply is shown as one line of text, with its code
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
$srv = smtp_test_server(['--reply', 'DOT=554 5.7.1 Message rejected\nSee https://example.test/policy']);
ini_set('smtp.port', (string) $srv['port']);
try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
?>
--EXPECT--
SmtpException(554): smtp_send(): the server did not accept the message; the server said: "554 5.7.1 Message rejected See https://example.test/policy".
