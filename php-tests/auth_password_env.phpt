--TEST--
Auth: smtp.password_env: the password comes from the named environment variable; a script can choose another variable neither per call nor with ini_set()
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/admin.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'env s3cret', '--require-auth']);
// php.ini's settings, with the test server's port (see inc/admin.inc).
$ini = ['smtp.host' => '127.0.0.1', 'smtp.port' => $srv['port'], 'smtp.idhost' => 'id.example.test',
    'smtp.localhost' => 'client.example.test', 'smtp.timeout' => '5', 'smtp.auth' => 'PLAIN',
    'smtp.username' => 'wiki', 'smtp.pool' => '0', 'smtp.password_env' => 'PHP_SMTP_TEST_PASSWORD'];
echo smtp_admin_php($ini, <<<'PHP'
$srv = ['dir' => getenv('SRV_DIR')];
putenv('PHP_SMTP_TEST_PASSWORD=env s3cret');
smtp_send('to@example.test', 'Password from the environment', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), auth_user: ", var_export($r[0]['auth_user'], true), "\n";
echo implode("\n", preg_grep('/^AUTH/', smtp_client_lines(smtp_transcript($srv['dir'])))), "\n";

// Read at every send: a changed variable is used at once.
putenv('PHP_SMTP_TEST_PASSWORD=changed');
try {
    smtp_send('to@example.test', 'Changed', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    echo "changed variable: code ", $e->getCode(), "\n";
}

// Per call: a script may not choose where the password comes from.
try {
    smtp_send('to@example.test', 'Unset', "Body\n", ['From' => 'wiki@example.test'],
        ['password_env' => 'PHP_SMTP_TEST_UNSET']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
    echo "shows a password: ", var_export(str_contains($e->getMessage(), 's3cret') || str_contains($e->getMessage(), 'changed'), true), "\n";
}
// Nor by ini_set(): PHP refuses, the setting stays.
var_dump(ini_set('smtp.password_env', 'PHP_SMTP_TEST_UNSET'), ini_get('smtp.password_env'));
PHP, ['SRV_DIR' => $srv['dir']]);
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
1 message(s), auth_user: 'wiki'
AUTH PLAIN AHdpa2kAZW52IHMzY3JldA==
changed variable: code 535
SmtpException(0): smtp_send(): invalid setting: option "password_env" can only be set by the administrator (smtp.password_env in php.ini, or php_admin_value in the PHP-FPM pool), not per call
shows a password: false
bool(false)
string(22) "PHP_SMTP_TEST_PASSWORD"
1 message(s)
