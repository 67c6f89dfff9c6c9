--TEST--
phpinfo(): a NUL byte in an smtp.* value (set with ini_set) is shown, not a crash; the worker goes on
--EXTENSIONS--
smtp
--INI--
smtp.host=127.0.0.1
--FILE--
<?php
ini_set('smtp.port', "25\0");
ini_set('smtp.username', "wi\0ki");
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
preg_match('/^Settings => .*$/m', $info, $m);
echo str_replace("\0", '<NUL>', $m[0]), "\n";
echo "still running\n";
?>
--EXPECT--
Settings => invalid: invalid setting: port "25\0" is not a number (usually 587, 465 or 25)
still running
