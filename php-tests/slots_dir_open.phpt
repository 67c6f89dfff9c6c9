--TEST--
Slots: an smtp.slot_dir that other users may write is refused with one warning in PHP's error log (directory, why, fix); the mails are sent without the cap
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.pool=0
smtp.max_connections=1
smtp.slot_dir=/tmp/php-smtp-phpt-open-slot-dir
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$dir = '/tmp/php-smtp-phpt-open-slot-dir';
@rmdir($dir);
mkdir($dir);
chmod($dir, 0777);
register_shutdown_function(fn () => @rmdir($dir));
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
$log = smtp_test_tmpdir('log') . '/php_errors.log';
ini_set('error_log', $log);

smtp_send('to@example.test', 'one', "Body\n", ['From' => 'wiki@example.test']);
smtp_send('to@example.test', 'two', "Body\n", ['From' => 'wiki@example.test']);
echo count(smtp_received($srv['dir'], 2)), " received\n";
echo "slot files made: ", count(scandir($dir)) - 2, "\n";
$lines = array_values(array_filter(file($log), fn ($l) => str_contains($l, 'smtp.max_connections is not kept')));
echo count($lines), " warning\n";
echo preg_replace('/^\[[^\]]*\] /', '', $lines[0] ?? '');
?>
--EXPECTF--
2 received
slot files made: 0
1 warning
smtp: smtp.max_connections is not kept: the slot directory /tmp/php-smtp-phpt-open-slot-dir is open to other users (mode 777): group or others may write it. Mail to 127.0.0.1 is sent without the cap. Set smtp.slot_dir in php.ini to a directory that only the PHP user can write (owned by it or root, not writable by group or others), e.g. /run/php-smtp made by systemd-tmpfiles (see the README)
