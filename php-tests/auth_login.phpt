--TEST--
Auth: smtp.auth=LOGIN logs in with the LOGIN exchange; json auth_user is set
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=LOGIN
smtp.username=wiki
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 's3cret', '--require-auth']);
ini_set('smtp.port', (string) $srv['port']);
// The script's own password (php.ini's would be bound to php.ini's port, not the test server's).
ini_set('smtp.password', 's3cret');

smtp_send('to@example.test', 'Auth LOGIN', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "auth_user: ", var_export($r[0]['auth_user'], true), "\n";
$t = smtp_transcript($srv['dir']);
preg_match('/^1 C: AUTH LOGIN.*?^1 S: 235 .*?$/ms', $t, $m);
echo $m[0], "\n";
?>
--EXPECT--
1 message(s)
auth_user: 'wiki'
1 C: AUTH LOGIN
1 S: 334 VXNlcm5hbWU6
1 C: d2lraQ==
1 S: 334 UGFzc3dvcmQ6
1 C: czNjcmV0
1 S: 235 2.7.0 Authentication successful
