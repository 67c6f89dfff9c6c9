--TEST--
smtp_send(): a UTF-8 body to a server without 8BITMIME is sent without the BODY= parameter
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
$srv = smtp_test_server(['--no-8bitmime']);
ini_set('smtp.port', (string) $srv['port']);

smtp_send('to@example.test', 'Umlauts', "Grüße\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "mail params: ", json_encode($r[0]['mail_params']), "\n";
echo "body bytes exact: ", var_export(smtp_body($r[0]['eml']) === "Grüße\r\n", true), "\n";
?>
--EXPECT--
1 message(s)
mail params: []
body bytes exact: true
