--TEST--
TLS: a server that offers AUTH only after STARTTLS: the extension upgrades, then logs in
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
smtp.auth=1
smtp.username=wiki
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--auth-user', 'wiki', '--auth-pass', 's3cret', '--auth-requires-tls', '--require-auth']);
ini_set('smtp.port', (string) $srv['port']);
// The script's own password (php.ini's would be bound to php.ini's port, not the test server's).
ini_set('smtp.password', 's3cret');

smtp_send('to@example.test', 'Auth over TLS', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), tls: ", var_export($r[0]['tls'], true), ", auth_user: ", var_export($r[0]['auth_user'], true), "\n";
?>
--EXPECT--
1 message(s), tls: true, auth_user: 'wiki'
