--TEST--
Auth: smtp.password_file (php.ini only): the password is the file's first line; a script can point it elsewhere neither per call nor with ini_set(), and nothing reaches the server when it tries
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/admin.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'fi1e s3cret', '--require-auth']);
$evil = smtp_test_server(['--auth-user', 'x', '--auth-pass', 'y']);
// php.ini's settings, with the test server's port (see inc/admin.inc).
$ini = ['smtp.host' => '127.0.0.1', 'smtp.port' => $srv['port'], 'smtp.idhost' => 'id.example.test',
    'smtp.localhost' => 'client.example.test', 'smtp.timeout' => '5', 'smtp.auth' => 'PLAIN',
    'smtp.username' => 'wiki', 'smtp.pool' => '0', 'smtp.password_file' => __DIR__ . '/inc/password.txt'];
echo smtp_admin_php($ini, <<<'PHP'
$srv = ['dir' => getenv('SRV_DIR')];
smtp_send('to@example.test', 'Password from a file', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), auth_user: ", var_export($r[0]['auth_user'], true), "\n";
echo implode("\n", preg_grep('/^AUTH/', smtp_client_lines(smtp_transcript($srv['dir'])))), "\n";

// smtp.password, when a script sets it, wins over the file.
ini_set('smtp.password', 'wrong');
try {
    smtp_send('to@example.test', 'smtp.password wins', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    echo "with smtp.password set: code ", $e->getCode(), "\n";
}
ini_set('smtp.password', '');

// A script cannot point the file elsewhere: ini_set() is refused...
var_dump(ini_set('smtp.password_file', '/etc/passwd'));
// ...and so is the per-call option, before any connection: /etc/passwd never leaves.
try {
    smtp_send('to@example.test', 'steal', "Body\n", ['From' => 'wiki@example.test'],
        ['host' => '127.0.0.1', 'port' => (int) getenv('EVIL_PORT'), 'auth' => 'PLAIN', 'username' => 'x',
         'password_file' => '/etc/passwd']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
PHP, ['SRV_DIR' => $srv['dir'], 'EVIL_PORT' => (string) $evil['port']]);
echo "connections to the other server: ", substr_count(smtp_transcript($evil['dir']), ' OPEN'), "\n";
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
1 message(s), auth_user: 'wiki'
AUTH PLAIN AHdpa2kAZmkxZSBzM2NyZXQ=
with smtp.password set: code 535
bool(false)
SmtpException(0): smtp_send(): invalid setting: option "password_file" can only be set by the administrator (smtp.password_file in php.ini, or php_admin_value in the PHP-FPM pool), not per call
connections to the other server: 0
1 message(s)
