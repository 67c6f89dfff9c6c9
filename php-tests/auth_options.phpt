--TEST--
Auth: auth, username and password given in the options array ($wgSMTP style) log in
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
$srv = smtp_test_server(['--auth-user', 'mw', '--auth-pass', 'pw', '--require-auth', '--auth-mechs', 'LOGIN']);

smtp_send('to@example.test', 'Auth via options', "Body\n", ['From' => 'wiki@example.test'], [
    'host' => '127.0.0.1', 'port' => $srv['port'], 'auth' => true, 'username' => 'mw', 'password' => 'pw',
]);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), auth_user: ", var_export($r[0]['auth_user'], true), "\n";
?>
--EXPECT--
1 message(s), auth_user: 'mw'
