--TEST--
smtp_send(): a lone LF in the body ends a line (CRLF), a lone CR becomes a space (as PHP + Postfix deliver it); CRLF stays; a final line end is added
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

smtp_send('to@example.test', 'Line ends', "lf\ncr\rcrlf\r\nlf-cr\n\rend", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo json_encode(smtp_body($r[0]['eml'])), "\n";
echo "CRLF only in the whole message: ", var_export(smtp_crlf_only($r[0]['eml']), true), "\n";
?>
--EXPECT--
1 message(s)
"lf\r\ncr crlf\r\nlf-cr\r\n end\r\n"
CRLF only in the whole message: true
