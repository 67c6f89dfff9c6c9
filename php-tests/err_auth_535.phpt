--TEST--
Errors: wrong password: code 535, "authentication failed", the password is not in the message
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
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'right-pass', '--require-auth']);
ini_set('smtp.port', (string) $srv['port']);
// The script's own password (php.ini's would be bound to php.ini's port, not the test server's).
ini_set('smtp.password', 'Wr0ng-Secret-42');

try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
    $text = (string) $e;   // message, trace and arguments
    echo "password in the exception: ", var_export(str_contains($text, 'Wr0ng-Secret-42'), true), "\n";
    echo "base64 credentials in the exception: ", var_export(str_contains($text, base64_encode("\0wiki\0Wr0ng-Secret-42")), true), "\n";
}
// The same through the options array.
try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test'], ['password' => 'An0ther-Secret']);
} catch (SmtpException $e) {
    echo "code {$e->getCode()}; password in the message: ", var_export(str_contains($e->getMessage(), 'An0ther-Secret'), true), "\n";
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
SmtpException(535): smtp_send(): authentication failed; the server said: "535 5.7.8 Authentication credentials invalid". Check smtp.username and smtp.password (many providers require an app password or an API key instead of the account password)
password in the exception: false
base64 credentials in the exception: false
code 535; password in the message: false
0 message(s)
