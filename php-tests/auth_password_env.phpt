--TEST--
Auth: smtp.password_env: the password comes from the named environment variable; an unset variable is an SmtpException naming it, never a password
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=PLAIN
smtp.username=wiki
smtp.pool=0
smtp.password_env=PHP_SMTP_TEST_PASSWORD
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'env s3cret', '--require-auth']);
ini_set('smtp.port', (string) $srv['port']);

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

// Per call: another variable, which is not set.
try {
    smtp_send('to@example.test', 'Unset', "Body\n", ['From' => 'wiki@example.test'],
        ['password_env' => 'PHP_SMTP_TEST_UNSET']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
    echo "shows a password: ", var_export(str_contains($e->getMessage(), 's3cret') || str_contains($e->getMessage(), 'changed'), true), "\n";
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
1 message(s), auth_user: 'wiki'
AUTH PLAIN AHdpa2kAZW52IHMzY3JldA==
changed variable: code 535
SmtpException(0): smtp_send(): invalid setting: password_env names the environment variable "PHP_SMTP_TEST_UNSET", which is not set for this PHP process (for PHP-FPM: env[PHP_SMTP_TEST_UNSET] in the pool, with clear_env)
shows a password: false
1 message(s)
