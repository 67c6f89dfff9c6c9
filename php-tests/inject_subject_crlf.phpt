--TEST--
Header injection: CR/LF in the subject become spaces (smtp_send and mail()); no extra recipient or header
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

$subject = "Hello\r\nBcc: evil@example.test\r\n\r\nInjected body";
smtp_send('to@example.test', $subject, "Real body\n", ['From' => 'wiki@example.test']);
var_dump(mail('to@example.test', "Hi\nX-Evil: 1", "Real body\n", 'From: wiki@example.test'));
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s)\n";
foreach ($r as $m) {
    echo "RCPT TO: ", implode(' ', $m['rcpt_to']), "\n";
    preg_match('/^Subject: .*$/m', $m['eml'], $s);
    echo json_encode($s[0]), "\n";
    $names = array_column(smtp_headers($m['eml']), 0);
    echo "headers: ", implode(' ', $names), "\n";
    echo "body: ", json_encode(smtp_body($m['eml'])), "\n";
}
echo "evil address anywhere in the envelope: ", var_export(str_contains(smtp_transcript($srv['dir']), 'evil@'), true), "\n";
?>
--EXPECT--
bool(true)
2 message(s)
RCPT TO: to@example.test
"Subject: Hello  Bcc: evil@example.test    Injected body\r"
headers: Date To Subject Message-ID From
body: "Real body\r\n"
RCPT TO: to@example.test
"Subject: Hi X-Evil: 1\r"
headers: Date To Subject Message-ID From
body: "Real body\r\n"
evil address anywhere in the envelope: false
