--TEST--
Header injection: an array header value with "\r\nBcc: x" (or a lone LF/CR, or NUL) is a ValueError; nothing is sent
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

$bad = [
    "x\r\nBcc: evil@example.test",
    "x\nBcc: evil@example.test",
    "x\rBcc: evil@example.test",
    "x\r\n\r\nbody",
    "x\0y",
];
foreach ($bad as $value) {
    foreach (['smtp_send', 'mail'] as $f) {
        try {
            $f('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test', 'X-Note' => $value]);
            echo "$f sent?!\n";
        } catch (ValueError $e) {
            smtp_show_exception($e);
        }
    }
}
// In a list of values, too.
try {
    mail('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test', 'X-Note' => ['ok', "x\r\nBcc: evil@example.test"]]);
    echo "sent?!\n";
} catch (ValueError $e) {
    smtp_show_exception($e);
}
// Folding (CRLF + space/tab) is allowed and arrives folded.
smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test', 'X-Note' => "first\r\n second"]);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "RCPT TO: ", implode(' ', $r[0]['rcpt_to']), "\n";
preg_match('/^X-Note: .*\r\n(?:[ \t].*\r\n)*/m', $r[0]['eml'], $m);
echo json_encode($m[0]), "\n";
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECT--
ValueError(0): smtp_send(): Header "X-Note" contains CRLF characters that are used as a line separator and are not allowed in the header
ValueError(0): Header "X-Note" contains CRLF characters that are used as a line separator and are not allowed in the header
ValueError(0): smtp_send(): Header "X-Note" contains LF character that is not allowed in the header
ValueError(0): Header "X-Note" contains LF character that is not allowed in the header
ValueError(0): smtp_send(): Header "X-Note" contains CR character that is not allowed in the header
ValueError(0): Header "X-Note" contains CR character that is not allowed in the header
ValueError(0): smtp_send(): Header "X-Note" contains CRLF characters that are used as a line separator and are not allowed in the header
ValueError(0): Header "X-Note" contains CRLF characters that are used as a line separator and are not allowed in the header
ValueError(0): smtp_send(): Header "X-Note" contains NULL character that is not allowed in the header
ValueError(0): Header "X-Note" contains NULL character that is not allowed in the header
ValueError(0): Header "X-Note" contains CRLF characters that are used as a line separator and are not allowed in the header
1 message(s)
RCPT TO: to@example.test
"X-Note: first\r\n second\r\n"
connections: 1
