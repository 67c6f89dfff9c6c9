--TEST--
smtp.max_rate: php.ini only (ini_set() refused, refused per call), visible to scripts and phpinfo() like smtp.max_connections
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.timeout=5
smtp.pool=0
smtp.max_rate=30/min
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
var_dump(ini_get('smtp.max_rate'));
var_dump(ini_set('smtp.max_rate', '0'), ini_get('smtp.max_rate'));
ini_restore('smtp.max_rate');
var_dump(ini_get('smtp.max_rate'));
try {
    smtp_send('to@example.test', 's', "b\n", ['From' => 'wiki@example.test'], ['max_rate' => '0']);
} catch (SmtpException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
echo implode("\n", preg_grep('/^smtp\.max_rate =>/', explode("\n", smtp_phpinfo()))), "\n";

?>
--EXPECT--
string(6) "30/min"
bool(false)
string(6) "30/min"
string(6) "30/min"
SmtpException: smtp_send(): invalid setting: option "max_rate" can only be set by the administrator (smtp.max_rate in php.ini, or php_admin_value in the PHP-FPM pool), not per call
smtp.max_rate => 30/min => 30/min
