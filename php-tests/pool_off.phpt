--TEST--
Pool: smtp.pool=0 opens a connection per send, each ending with QUIT
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.pool=0
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

smtp_send('to@example.test', 'First', "Body\n", ['From' => 'wiki@example.test']);
smtp_send('to@example.test', 'Second', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s) on connection(s) ", implode(',', array_column($r, 'connection')), "\n";
$t = smtp_transcript($srv['dir'], '/^2 CLOSE$/m');
foreach ([1, 2] as $n) {
    preg_match_all("/^$n C: (\\S+)/m", $t, $m);
    echo "connection $n: ", implode(', ', $m[1]), "\n";
}
$s = smtp_stats();
echo "opened {$s['connections_opened']}, reused {$s['connections_reused']}, sent {$s['messages_sent']}\n";
?>
--EXPECT--
2 message(s) on connection(s) 1,2
connection 1: EHLO, MAIL, RCPT, DATA, <data, QUIT
connection 2: EHLO, MAIL, RCPT, DATA, <data, QUIT
opened 2, reused 0, sent 2
