--TEST--
Auth: smtp.auth=XOAUTH2 sends the password as the bearer token; a bad token fails with 535
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=XOAUTH2
smtp.username=wiki@example.test
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--auth-user', 'wiki@example.test', '--auth-pass', 'ya29.token', '--require-auth']);
ini_set('smtp.port', (string) $srv['port']);
// The script's own password (php.ini's would be bound to php.ini's port, not the test server's).
ini_set('smtp.password', 'ya29.token');
ini_set('smtp.pool', '0');

smtp_send('to@example.test', 'Token', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), auth_user: ", var_export($r[0]['auth_user'], true), "\n";
preg_match('/C: AUTH XOAUTH2 (\S+)/', smtp_transcript($srv['dir']), $m);
echo json_encode(base64_decode($m[1])), "\n";

ini_set('smtp.password', 'expired.token');
try {
    smtp_send('to@example.test', 'Bad token', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    echo "code ", $e->getCode(), ": ", str_contains($e->getMessage(), 'authentication failed') ? 'authentication failed' : $e->getMessage(), "\n";
    echo "token in the message: ", var_export(str_contains($e->getMessage(), 'expired.token'), true), "\n";
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
1 message(s), auth_user: 'wiki@example.test'
"user=wiki@example.test\u0001auth=Bearer ya29.token\u0001\u0001"
code 535: authentication failed
token in the message: false
1 message(s)
