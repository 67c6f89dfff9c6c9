--TEST--
Pool: a server limit of one message per connection (--max-messages 1): the pool re-connects; both messages arrive once each; the first 421 teaches the pool the limit, so the third goes on a new connection without one
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
$srv = smtp_test_server(['--max-messages', '1']);
ini_set('smtp.port', (string) $srv['port']);

foreach (['First', 'Second', 'Third'] as $subject) {
    smtp_send('to@example.test', $subject, "Body\n", ['From' => 'wiki@example.test']);
}
$r = smtp_received($srv['dir'], 3);
echo count($r), " message(s): ", implode(', ', array_map(fn($m) => array_column(smtp_headers($m['eml']), 1, 0)['Subject'] . '@' . $m['connection'], $r)), "\n";
echo "421 replies: ", substr_count(smtp_transcript($srv['dir']), 'S: 421'), "\n";
$s = smtp_stats();
echo "opened {$s['connections_opened']}, retries {$s['retries']}, sent {$s['messages_sent']}, failures {$s['failures']}\n";
?>
--EXPECT--
3 message(s): First@1, Second@2, Third@3
421 replies: 1
opened 3, retries 1, sent 3, failures 0
