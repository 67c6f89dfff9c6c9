--TEST--
Header injection: a lone CR in string headers (mail() and smtp_send()) never starts a header or adds a recipient; the call is refused and nothing is sent
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

$blocks = [
    "From: wiki@example.test\r\nReply-To: x@example.test\rBcc: evil@example.test",
    "From: wiki@example.test\rBcc: evil@example.test",
    "From: wiki@example.test\r\nX-A: v\r\n folded\rCc: evil@example.test",
];
foreach ($blocks as $block) {
    var_dump(mail('to@example.test', 'Subject', "Body\n", $block));
    try {
        smtp_send('to@example.test', 'Subject', "Body\n", $block);
        echo "smtp_send sent?!\n";
    } catch (ValueError $e) {
        smtp_show_exception($e);
    }
}
echo count(smtp_received($srv['dir'])), " message(s)\n";
?>
--EXPECTF--
Warning: mail(): Header "Reply-To" contains CR character that is not allowed in the header in %s on line %d
bool(false)
ValueError(0): smtp_send(): Header "Reply-To" contains CR character that is not allowed in the header
%AWarning: mail(): Header "From" contains CR character that is not allowed in the header in %s on line %d
bool(false)
ValueError(0): smtp_send(): Header "From" contains CR character that is not allowed in the header
%AWarning: mail(): Header "X-A" contains CR character that is not allowed in the header in %s on line %d
bool(false)
ValueError(0): smtp_send(): Header "X-A" contains CR character that is not allowed in the header
0 message(s)
