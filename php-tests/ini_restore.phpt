--TEST--
ini: ini_restore() of an smtp.* setting changed with ini_set() brings back the ini value
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.port=2525
--FILE--
<?php
var_dump(ini_set('smtp.port', '587'));
var_dump(ini_get('smtp.port'));
ini_restore('smtp.port');
var_dump(ini_get('smtp.port'));
ini_set('smtp.localhost', 'other.example.test');
ini_restore('smtp.localhost');
var_dump(ini_get('smtp.localhost'));
?>
--EXPECT--
string(4) "2525"
string(3) "587"
string(4) "2525"
string(19) "client.example.test"
