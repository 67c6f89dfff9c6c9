--TEST--
smtp_send(): a server that refuses EHLO gets HELO; no ESMTP parameters are used then (not even for a UTF-8 body)
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
$srv = smtp_test_server(['--no-ehlo']);
ini_set('smtp.port', (string) $srv['port']);
smtp_send('to@example.test', 'Old server', "Grüße\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), helo {$r[0]['helo']}, params ", json_encode($r[0]['mail_params']), "\n";
echo "commands: ", implode(', ', array_map(fn($c) => strtok($c, ' :'), smtp_client_lines(smtp_transcript($srv['dir'])))), "\n";
?>
--EXPECT--
1 message(s), helo client.example.test, params []
commands: EHLO, HELO, MAIL, RCPT, DATA, <data
