--TEST--
smtp_send(): an unknown options key is an SmtpException naming the key; nothing is sent
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

try {
    smtp_send('to@example.test', 'Typo', "Hi\n", ['From' => 'wiki@example.test'], ['hots' => '127.0.0.1']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
SmtpException(0): smtp_send(): invalid setting: unknown option "hots"; known options are host, port, auth, username, password, idhost, localhost, timeout, max_time, starttls, debug, dsn_notify, dsn_ret, require_tls, dsn (an array)
connections: 0
0 message(s)
