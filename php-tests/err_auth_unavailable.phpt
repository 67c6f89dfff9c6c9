--TEST--
Errors: smtp.auth on, but the server offers no AUTH: a clear error, no MAIL is sent
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=1
smtp.username=wiki
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
// The script's own password (php.ini's would be bound to php.ini's port, not the test server's).
ini_set('smtp.password', 'secret');
try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo "commands: ", implode(', ', smtp_client_lines(smtp_transcript($srv['dir']))), "\n";
?>
--EXPECT--
SmtpException(0): smtp_send(): smtp.auth is on, but 127.0.0.1 offers no authentication on this connection. Check smtp.port (submission is usually 587 or 465), or turn smtp.auth off if the server does not need a login
commands: EHLO client.example.test
