--TEST--
smtp_send(): a server without PIPELINING: the send works; a refused MAIL FROM is not followed by RCPT/DATA (they wait for its reply)
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
$srv = smtp_test_server(['--no-pipelining']);
ini_set('smtp.port', (string) $srv['port']);
smtp_send('a@example.test, b@example.test', 'No pipelining', "Body\n", ['From' => 'wiki@example.test']);
echo count(smtp_received($srv['dir'])), " message(s)\n";
echo "commands: ", implode(', ', array_map(fn($c) => strtok($c, ' :'), smtp_client_lines(smtp_transcript($srv['dir'])))), "\n";

$bad = smtp_test_server(['--no-pipelining', '--reply', 'MAIL=550 5.7.1 not you']);
ini_set('smtp.port', (string) $bad['port']);
try {
    smtp_send('a@example.test, b@example.test', 'Refused', "Body\n", ['From' => 'wiki@example.test']);
} catch (SmtpException $e) {
    echo "code ", $e->getCode(), "\n";
}
echo "commands: ", implode(', ', smtp_client_lines(smtp_transcript($bad['dir']))), "\n";
?>
--EXPECT--
1 message(s)
commands: EHLO, MAIL, RCPT, RCPT, DATA, <data
code 550
commands: EHLO client.example.test, MAIL FROM:<wiki@example.test>
