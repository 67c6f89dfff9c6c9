--TEST--
Errors: a 554 greeting: code 554, "refused the connection", not temporary; no mail commands follow
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
$srv = smtp_test_server(['--reply', 'GREETING=554 5.3.2 No SMTP service here']);
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
$cmds = smtp_client_lines(smtp_transcript($srv['dir']));
echo "MAIL sent: ", var_export((bool) preg_grep('/^MAIL/', $cmds), true), "\n";
?>
--EXPECT--
SmtpException(554): smtp_send(): the SMTP server refused the connection; the server said: "554 5.3.2 No SMTP service here".
MAIL sent: false
