--TEST--
ini: ini_set() of smtp.* at run time takes effect for the next send (port, localhost, idhost)
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$a = smtp_test_server();
$b = smtp_test_server();

var_dump(ini_set('smtp.port', (string) $a['port']));
$id1 = smtp_send('to@example.test', 'To A', "Body\n", ['From' => 'wiki@example.test']);
var_dump(ini_set('smtp.port', (string) $b['port']) === (string) $a['port']);
ini_set('smtp.localhost', 'changed.example.test');
ini_set('smtp.idhost', 'new-id.example.test');
$id2 = smtp_send('to@example.test', 'To B', "Body\n", ['From' => 'wiki@example.test']);

$ra = smtp_received($a['dir']);
$rb = smtp_received($b['dir']);
echo "server A: ", count($ra), " message(s), EHLO {$ra[0]['helo']}, ", array_column(smtp_headers($ra[0]['eml']), 1, 0)['Subject'], "\n";
echo "server B: ", count($rb), " message(s), EHLO {$rb[0]['helo']}, ", array_column(smtp_headers($rb[0]['eml']), 1, 0)['Subject'], "\n";
echo "ids: ", substr($id1, strpos($id1, '@')), " ", substr($id2, strpos($id2, '@')), "\n";
?>
--EXPECT--
string(0) ""
bool(true)
server A: 1 message(s), EHLO client.example.test, To A
server B: 1 message(s), EHLO changed.example.test, To B
ids: @id.example.test> @new-id.example.test>
