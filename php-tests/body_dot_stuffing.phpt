--TEST--
smtp_send(): body lines starting with "." arrive intact and are dot-stuffed on the wire
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
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

$body = ".first line starts with a dot\nnormal\n.\n..\n...three\n. space after dot\nmid . dot\n.";
smtp_send('to@example.test', 'Dots', $body, ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
$m = $r[0];
echo "received body (.eml):\n", str_replace("\r\n", "|\n", smtp_body($m['eml']));
echo "wire body (raw):\n", str_replace("\r\n", "|\n", smtp_body($m['raw']));
echo "body exact: ", var_export(
    smtp_body($m['eml']) === ".first line starts with a dot\r\nnormal\r\n.\r\n..\r\n...three\r\n. space after dot\r\nmid . dot\r\n.\r\n",
    true
), "\n";
?>
--EXPECT--
1 message(s)
received body (.eml):
.first line starts with a dot|
normal|
.|
..|
...three|
. space after dot|
mid . dot|
.|
wire body (raw):
..first line starts with a dot|
normal|
..|
...|
....three|
.. space after dot|
mid . dot|
..|
.|
body exact: true
