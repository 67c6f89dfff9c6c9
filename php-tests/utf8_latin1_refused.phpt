--TEST--
Latin-1 bytes in a Subject, display name or header are refused with the fix, never replaced by U+FFFD; valid UTF-8 is still RFC 2047 encoded
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

var_dump(mail('to@example.test', "Gr\xfc\xdfe aus K\xf6ln", "Body\n", "From: wiki@example.test"));
var_dump(mail('to@example.test', 'Subject', "Body\n", "From: K\xf6ln <wiki@example.test>"));
var_dump(mail("K\xf6ln <to@example.test>", 'Subject', "Body\n", ['From' => 'wiki@example.test']));
foreach ([
    ['to@example.test', "Gr\xfc\xdfe", ['From' => 'wiki@example.test']],
    ['to@example.test', 'Subject', ['From' => "K\xf6ln <wiki@example.test>"]],
    ["K\xf6ln <to@example.test>", 'Subject', ['From' => 'wiki@example.test']],
] as [$to, $subject, $headers]) {
    try {
        smtp_send($to, $subject, "Body\n", $headers);
        echo "sent?!\n";
    } catch (ValueError $e) {
        smtp_show_exception($e);
    }
}
echo count(smtp_received($srv['dir'], 1, 0.5)), " message(s)\n";
var_dump(mail('to@example.test', 'Grüße aus Köln', "Body\n", "From: wiki@example.test"));
$r = smtp_received($srv['dir']);
preg_match('/^Subject: (.*)$/m', $r[0]['eml'], $m);
echo smtp_decode_words(trim($m[1])), "\n";
?>
--EXPECTF--
Warning: mail(): The Subject argument is not valid UTF-8 (byte 0xFC at offset 2): convert it first, for example with mb_convert_encoding($text, 'UTF-8', 'ISO-8859-1'), or encode it as an RFC 2047 encoded word in %s on line %d
bool(false)

Warning: mail(): The header block is not valid UTF-8 (byte 0xF6 at offset 7): %s in %s on line %d
bool(false)

Warning: mail(): The To argument is not valid UTF-8 (byte 0xF6 at offset 1): %s in %s on line %d
bool(false)
ValueError(0): smtp_send(): Argument #2 ($subject) is not valid UTF-8 (byte 0xFC at offset 2): %s
ValueError(0): smtp_send(): Header "From" is not valid UTF-8 (byte 0xF6 at offset 1): %s
ValueError(0): smtp_send(): Argument #1 ($to) is not valid UTF-8 (byte 0xF6 at offset 1): %s
0 message(s)
bool(true)
Grüße aus Köln
