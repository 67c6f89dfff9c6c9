--TEST--
smtp_send(): a UTF-8 body gets MIME headers and MAIL FROM ... BODY=8BITMIME
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

$body = "Schöne Grüße\nÄÖÜ €\n";
smtp_send('to@example.test', 'Umlauts', $body, ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
$m = $r[0];
echo "mail params: ", json_encode($m['mail_params']), "\n";
foreach (smtp_headers($m['eml']) as [$name, $value]) {
    if (in_array($name, ['MIME-Version', 'Content-Type', 'Content-Transfer-Encoding'], true)) {
        echo "$name: $value\n";
    }
}
echo "body bytes exact: ", var_export(smtp_body($m['eml']) === "Schöne Grüße\r\nÄÖÜ €\r\n", true), "\n";
?>
--EXPECT--
1 message(s)
mail params: ["BODY=8BITMIME"]
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
body bytes exact: true
