--TEST--
smtp_send(): a body of just "." is delivered as a "." line, not taken as the end of data
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

smtp_send('to@example.test', 'Just a dot', ".", ['From' => 'wiki@example.test']);
smtp_send('to@example.test', 'Dot and newline', ".\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s)\n";
foreach ($r as $m) {
    echo json_encode(smtp_body($m['eml'])), " on the wire as ", json_encode(smtp_body($m['raw'])), "\n";
}
?>
--EXPECT--
2 message(s)
".\r\n" on the wire as "..\r\n.\r\n"
".\r\n" on the wire as "..\r\n.\r\n"
