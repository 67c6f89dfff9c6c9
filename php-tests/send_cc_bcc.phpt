--TEST--
smtp_send(): Cc and Bcc headers are recipients; Bcc does not appear in the message bytes
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

smtp_send('to@example.test', 'Copies', "Hi\n", [
    'From' => 'wiki@example.test',
    'Cc' => 'Cee <cc@example.test>',
    'Bcc' => 'hidden1@example.test, Secret Person <hidden2@example.test>',
]);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "RCPT TO: ", implode(' ', $r[0]['rcpt_to']), "\n";
foreach (smtp_headers($r[0]['eml']) as [$name, $value]) {
    if ($name !== 'Date' && $name !== 'Message-ID') {
        echo "$name: $value\n";
    }
}
echo "bcc in .eml: ", var_export(stripos($r[0]['eml'], 'bcc') !== false, true), "\n";
echo "hidden address in wire data: ", var_export(str_contains($r[0]['raw'], 'hidden'), true), "\n";
?>
--EXPECT--
1 message(s)
RCPT TO: to@example.test cc@example.test hidden1@example.test hidden2@example.test
To: to@example.test
Subject: Copies
From: wiki@example.test
Cc: Cee <cc@example.test>
bcc in .eml: false
hidden address in wire data: false
