--TEST--
Auth: smtp.password_file: the password is the file's first line (trailing newline dropped); an unreadable file is an SmtpException naming the file, never a password
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
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'fi1e s3cret', '--require-auth']);
ini_set('smtp.port', (string) $srv['port']);
$dir = smtp_test_tmpdir('pw');
file_put_contents("$dir/password", "fi1e s3cret\n");
chmod("$dir/password", 0600);
ini_set('smtp.password_file', "$dir/password");

smtp_send('to@example.test', 'Password from a file', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), auth_user: ", var_export($r[0]['auth_user'], true), "\n";
echo implode("\n", preg_grep('/^AUTH/', smtp_client_lines(smtp_transcript($srv['dir'])))), "\n";

// smtp.password, when set, wins over the file.
ini_set('smtp.password', 'wrong');
try {
    smtp_send('to@example.test', 'smtp.password wins', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    echo "with smtp.password set: code ", $e->getCode(), "\n";
}
ini_set('smtp.password', '');

// A file that is not there: the file is named, no password shows.
ini_set('smtp.password_file', "$dir/missing");
try {
    smtp_send('to@example.test', 'Missing file', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
    echo "names the file: ", var_export(str_contains($e->getMessage(), "\"$dir/missing\""), true), "\n";
    echo "shows a password: ", var_export(str_contains($e->getMessage(), 's3cret') || str_contains($e->getMessage(), 'wrong'), true), "\n";
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECTF--
1 message(s), auth_user: 'wiki'
AUTH PLAIN AHdpa2kAZmkxZSBzM2NyZXQ=
with smtp.password set: code 535
SmtpException(0): smtp_send(): invalid setting: password_file "%s/missing" cannot be read (%s); it must be readable by the PHP worker's user
names the file: true
shows a password: false
1 message(s)
