--TEST--
NUL bytes: smtp_send() refuses a NUL in the to, subject or body argument with a ValueError, as PHP's own mail() refuses them; nothing is sent
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

foreach ([["to\0@example.test", 'Subject', "Body\n"], ['to@example.test', "Sub\0ject", "Body\n"], ['to@example.test', 'Subject', "Bo\0dy\n"]] as [$to, $subject, $body]) {
    try {
        smtp_send($to, $subject, $body, ['From' => 'wiki@example.test']);
        echo "sent?!\n";
    } catch (ValueError $e) {
        smtp_show_exception($e);
    }
}
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECT--
ValueError(0): smtp_send(): Argument #1 ($to) must not contain any null bytes
ValueError(0): smtp_send(): Argument #2 ($subject) must not contain any null bytes
ValueError(0): smtp_send(): Argument #3 ($body) must not contain any null bytes
connections: 0
