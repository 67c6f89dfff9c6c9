--TEST--
Pool: the server closes the idle kept connection between sends; the second send still succeeds, each message arrives once
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
$srv = smtp_test_server(['--idle-close', '0.5']);
ini_set('smtp.port', (string) $srv['port']);

smtp_send('to@example.test', 'First', "Body\n", ['From' => 'wiki@example.test']);
// Wait until the server has dropped the idle connection.
$t = smtp_transcript($srv['dir'], '/^1 CLOSE$/m', 5);
echo "server closed connection 1: ", var_export(str_contains($t, "1 CLOSE"), true), "\n";
usleep(100000);
smtp_send('to@example.test', 'Second', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s): ", implode(', ', array_map(fn($m) => array_column(smtp_headers($m['eml']), 1, 0)['Subject'] . '@' . $m['connection'], $r)), "\n";
$s = smtp_stats();
echo "opened {$s['connections_opened']}, sent {$s['messages_sent']}, failures {$s['failures']}\n";
?>
--EXPECT--
server closed connection 1: true
2 message(s): First@1, Second@2
opened 2, sent 2, failures 0
