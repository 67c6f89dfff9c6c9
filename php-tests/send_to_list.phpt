--TEST--
smtp_send(): $to as a comma-separated list with display names; duplicates get one RCPT
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

$to = 'Alice Example <alice@example.test>, bob@example.test,"Doe, John" <john@example.test>, ALICE@example.test';
smtp_send($to, 'List to', "Hi\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "RCPT TO: ", implode(' ', $r[0]['rcpt_to']), "\n";
$hdr = array_column(smtp_headers($r[0]['eml']), 1, 0);
echo "To: {$hdr['To']}\n";
?>
--EXPECT--
1 message(s)
RCPT TO: alice@example.test bob@example.test john@example.test
To: Alice Example <alice@example.test>, bob@example.test,"Doe, John" <john@example.test>, ALICE@example.test
