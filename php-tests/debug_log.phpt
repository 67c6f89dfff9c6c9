--TEST--
Debug: smtp.debug=1 writes the SMTP conversation to PHP's error log, with the AUTH exchange hidden: no password, no base64 of it
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.cafile={PWD}/.certs/ca.pem
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.debug=1
smtp.pool=0
smtp.auth=PLAIN
smtp.username=wiki
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--auth-user', 'wiki', '--auth-pass', 'Deb5g s3cret', '--auth-requires-tls', '--require-auth']);
ini_set('smtp.port', (string) $srv['port']);
// The script's own password (php.ini's would be bound to php.ini's port, not the test server's).
ini_set('smtp.password', 'Deb5g s3cret');
$log = smtp_test_tmpdir('log') . '/php_errors.log';
ini_set('error_log', $log);

smtp_send('to@example.test', 'Debug', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), tls: ", var_export($r[0]['tls'], true), ", auth_user: ", var_export($r[0]['auth_user'], true), "\n";

$text = (string) file_get_contents($log);
// "[date] smtp: 127.0.0.1:PORT C: EHLO ..." -> "C: EHLO ..."
$conv = [];
foreach (explode("\n", $text) as $line) {
    if (preg_match('/^\[[^]]*\] smtp: 127\.0\.0\.1:' . $srv['port'] . ' ([CS]: .*)$/', $line, $m)) {
        $conv[] = $m[1];
    }
}
foreach (['C: EHLO client.example.test', 'C: STARTTLS', 'C: <authentication data hidden>',
          'C: MAIL FROM:<wiki@example.test>', 'C: RCPT TO:<to@example.test>', 'C: QUIT'] as $want) {
    echo str_pad($want, 36), in_array($want, $conv, true) ? "logged\n" : "MISSING\n";
}
echo "AUTH command logged: ", var_export((bool) preg_grep('/^C: AUTH/i', $conv), true), "\n";
echo "server's 235 logged: ", var_export((bool) preg_grep('/^S: 235 /', $conv), true), "\n";
// The password in every form a log could show it.
$secrets = [
    'password' => 'Deb5g s3cret',
    'base64 of the password (LOGIN)' => base64_encode('Deb5g s3cret'),
    'base64 of \0user\0password (PLAIN)' => base64_encode("\0wiki\0Deb5g s3cret"),
    'base64 of user\0user\0password' => base64_encode("wiki\0wiki\0Deb5g s3cret"),
    'its tail in a shifted base64' => base64_encode("\0Deb5g s3cret"),
];
foreach ($secrets as $what => $s) {
    echo "$what in the log: ", var_export(str_contains($text, $s), true), "\n";
}
echo "the server did get it: ", var_export(str_contains(smtp_transcript($srv['dir']), base64_encode("\0wiki\0Deb5g s3cret")), true), "\n";
?>
--EXPECT--
1 message(s), tls: true, auth_user: 'wiki'
C: EHLO client.example.test         logged
C: STARTTLS                         logged
C: <authentication data hidden>     logged
C: MAIL FROM:<wiki@example.test>    logged
C: RCPT TO:<to@example.test>        logged
C: QUIT                             logged
AUTH command logged: false
server's 235 logged: true
password in the log: false
base64 of the password (LOGIN) in the log: false
base64 of \0user\0password (PLAIN) in the log: false
base64 of user\0user\0password in the log: false
its tail in a shifted base64 in the log: false
the server did get it: true
