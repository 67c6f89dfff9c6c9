--TEST--
ini: phpinfo() masks the password's local and master values; emptied by a script, the administrator's password is in force again, so both still show stars
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
// Emptied at run time: php.ini's password is the one in force again.
ini_set('smtp.password', '');
echo "emptied at run time:  ", $line(), "\n";
ini_set('smtp.password', 'Runtime-2');
echo "changed at run time:  ", $line(), "\n";
?>
--EXPECT--
set in the ini:       smtp.password => ******** => ********
emptied at run time:  smtp.password => ******** => ********
changed at run time:  smtp.password => ******** => ********
