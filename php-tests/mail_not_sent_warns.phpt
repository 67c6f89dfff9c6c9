--TEST--
mail() not sent (PHP 8.5+): PHP's own mail() warns and returns false when sendmail exits non-zero; the override, when the server refuses, does the same (an E_WARNING, false, no exception)
--EXTENSIONS--
smtp
--SKIPIF--
<?php
if (PHP_VERSION_ID < 80500) die('skip PHP 8.4 and older return false without a warning');
require __DIR__ . '/inc/skipif.inc';
?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.override_mail=0
sendmail_path=/bin/sh {PWD}/inc/failing_sendmail
error_reporting=E_ALL
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--reply', 'MAIL=550 5.7.1 you are not authorized to use this sender']);
ini_set('smtp.port', (string) $srv['port']);

function outcome(): string
{
    $notes = [];
    set_error_handler(function (int $no, string $msg) use (&$notes) {
        $notes[] = ($no === E_WARNING ? 'E_WARNING ' : "level $no ") . $msg;
        return true;
    });
    try {
        $r = 'returned ' . var_export(mail('to@example.test', 'S', "Body\n", 'From: wiki@example.test'), true);
    } catch (Throwable $e) {
        $r = get_class($e) . ': ' . $e->getMessage();
    } finally {
        restore_error_handler();
    }
    return implode(' | ', array_merge($notes, [$r]));
}
echo "PHP:  ", outcome(), "\n";
ini_set('smtp.override_mail', '1');
echo "SMTP: ", outcome(), "\n";
?>
--EXPECTF--
PHP:  E_WARNING mail(): Sendmail exited with non-zero exit code 3 | returned false
SMTP: E_WARNING mail(): the server refused the sender <wiki@example.test>; the server said: "550 5.7.1 you are not authorized to use this sender". %s | returned false
