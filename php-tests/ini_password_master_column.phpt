--TEST--
ini: phpinfo() masks the password's local and master values each by its own value ("no value" only where it is empty)
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.password=FromTheIni-1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$line = fn() => implode(' | ', preg_grep('/^smtp\.password =>/', explode("\n", smtp_phpinfo())));
echo "set in the ini:       ", $line(), "\n";
// Emptied at run time: the local value is empty, the master value (php.ini) is still set.
ini_set('smtp.password', '');
echo "emptied at run time:  ", $line(), "\n";
ini_set('smtp.password', 'Runtime-2');
echo "changed at run time:  ", $line(), "\n";
?>
--EXPECT--
set in the ini:       smtp.password => ******** => ********
emptied at run time:  smtp.password => no value => ********
changed at run time:  smtp.password => ******** => ********
