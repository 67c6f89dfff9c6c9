--TEST--
Header injection: string headers with an empty line in the middle: mail() warns and returns false, smtp_send() throws ValueError; nothing is sent
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.override_mail=1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

foreach (["From: wiki@example.test\r\n\r\nBcc: evil@example.test", "From: wiki@example.test\n\nBcc: evil@example.test", "\r\nFrom: wiki@example.test"] as $headers) {
    var_dump(mail('to@example.test', 'Subject', "Body\n", $headers));
}
// smtp_send() makes PHP's check too, a leading "\r\r" in a value included (it was read
// around, the rest of the line kept as the value).
foreach (["From: wiki@example.test\r\n\r\nBcc: evil@example.test", "From: wiki@example.test\r\nX-Custom: \r\rCc: evil@example.test"] as $headers) {
    try {
        smtp_send('to@example.test', 'Subject', "Body\n", $headers);
        echo "sent?!\n";
    } catch (ValueError $e) {
        smtp_show_exception($e);
    }
}
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECTF--
Warning: mail(): Multiple or malformed newlines found in additional_header in %s on line %d
bool(false)

Warning: mail(): Multiple or malformed newlines found in additional_header in %s on line %d
bool(false)

Warning: mail(): Multiple or malformed newlines found in additional_header in %s on line %d
bool(false)
ValueError(0): smtp_send(): Multiple or malformed newlines found in additional_header
ValueError(0): smtp_send(): Multiple or malformed newlines found in additional_header
connections: 0
