--TEST--
smtp_send(): a Return-Path header sets the envelope sender and is removed from the message
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

smtp_send('to@example.test', 'Bounces', "Hi\n", [
    'From' => 'Wiki <wiki@example.test>',
    'Return-Path' => '<bounces@example.test>',
]);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "MAIL FROM: <{$r[0]['mail_from']}>\n";
echo "Return-Path in message: ", var_export(stripos($r[0]['eml'], 'return-path') !== false, true), "\n";
echo "From: ", array_column(smtp_headers($r[0]['eml']), 1, 0)['From'], "\n";
?>
--EXPECT--
1 message(s)
MAIL FROM: <bounces@example.test>
Return-Path in message: false
From: Wiki <wiki@example.test>
