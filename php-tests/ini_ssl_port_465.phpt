--TEST--
ini: smtp.port empty with an ssl:// (or tls://) host means 465, otherwise 25; phpinfo shows the resolved server
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.host=ssl://mail.example.test
smtp.port=
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
var_dump(ini_get('smtp.port'));
$server = fn() => preg_match('/^Server => (.*)$/m', smtp_phpinfo(), $m) ? $m[1] : '(no Server line)';
echo "Server => ", $server(), "\n";
ini_set('smtp.host', 'TLS://mail.example.test');
echo "Server => ", $server(), "\n";
ini_set('smtp.host', 'mail.example.test');
echo "Server => ", $server(), "\n";
ini_set('smtp.host', 'ssl://mail.example.test');
ini_set('smtp.port', '2465');
echo "Server => ", $server(), "\n";
?>
--EXPECT--
string(0) ""
Server => mail.example.test:465 (implicit TLS)
Server => mail.example.test:465 (implicit TLS)
Server => mail.example.test:25 (STARTTLS when offered)
Server => mail.example.test:2465 (implicit TLS)
