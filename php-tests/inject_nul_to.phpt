--TEST--
Header injection: a NUL byte in $to or $subject of mail() is a ValueError ("must not contain any null bytes"); nothing is sent
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

foreach ([["to@example.test\0evil@example.test", 'Subject'], ['to@example.test', "Sub\0ject"]] as [$to, $subject]) {
    try {
        var_dump(mail($to, $subject, "Body\n", 'From: wiki@example.test'));
    } catch (ValueError $e) {
        smtp_show_exception($e);
    }
}
// smtp_send() refuses it too, with the same ValueError (php-tests/inject_nul_bytes.phpt: every argument).
try {
    smtp_send("to@example.test\0evil@example.test", 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (Throwable $e) {
    echo get_class($e), ": ", $e->getMessage(), "\n";
}
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECT--
ValueError(0): mail(): Argument #1 ($to) must not contain any null bytes
ValueError(0): mail(): Argument #2 ($subject) must not contain any null bytes
ValueError: smtp_send(): Argument #1 ($to) must not contain any null bytes
connections: 0
