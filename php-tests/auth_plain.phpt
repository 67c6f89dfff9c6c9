--TEST--
Auth: smtp.auth=PLAIN (and 1 = best offered) logs in on a loopback server; json auth_user is set
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.username=wiki
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 's3cret pass', '--require-auth']);
ini_set('smtp.port', (string) $srv['port']);
// The script's own password (php.ini's would be bound to php.ini's port, not the test server's).
ini_set('smtp.password', 's3cret pass');
ini_set('smtp.pool', '0');

foreach (['PLAIN', '1'] as $auth) {
    ini_set('smtp.auth', $auth);
    smtp_send('to@example.test', "Auth $auth", "Body\n", ['From' => 'wiki@example.test']);
}
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s)\n";
foreach ($r as $m) {
    echo "auth_user: ", var_export($m['auth_user'], true), ", tls: ", var_export($m['tls'], true), "\n";
}
echo implode("\n", preg_grep('/^AUTH/', smtp_client_lines(smtp_transcript($srv['dir'])))), "\n";
?>
--EXPECT--
2 message(s)
auth_user: 'wiki', tls: false
auth_user: 'wiki', tls: false
AUTH PLAIN AHdpa2kAczNjcmV0IHBhc3M=
AUTH PLAIN AHdpa2kAczNjcmV0IHBhc3M=
