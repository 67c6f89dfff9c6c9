--TEST--
Pool: smtp.pool_max_messages=2 makes the client itself replace the connection after two messages (QUIT, new connection)
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.pool_max_messages=2
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

foreach (['One', 'Two', 'Three'] as $subject) {
    smtp_send('to@example.test', $subject, "Body\n", ['From' => 'wiki@example.test']);
}
$r = smtp_received($srv['dir'], 3);
echo count($r), " message(s) on connection(s) ", implode(',', array_column($r, 'connection')), "\n";
$t = smtp_transcript($srv['dir'], '/^1 CLOSE$/m');
preg_match_all('/^1 C: (\S+)/m', $t, $m);
echo "connection 1: ", implode(', ', $m[1]), "\n";
$s = smtp_stats();
echo "opened {$s['connections_opened']}, reused {$s['connections_reused']}, retries {$s['retries']}\n";
?>
--EXPECT--
3 message(s) on connection(s) 1,1,2
connection 1: EHLO, MAIL, RCPT, DATA, <data, MAIL, RCPT, DATA, <data, QUIT
opened 2, reused 1, retries 0
