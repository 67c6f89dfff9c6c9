--TEST--
Pool: two sends in one process share one connection (connections_opened 1, connections_reused 1)
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

smtp_send('to@example.test', 'First', "Body\n", ['From' => 'wiki@example.test']);
smtp_send('to@example.test', 'Second', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s) on connection(s) ", implode(',', array_column($r, 'connection')), "\n";
$t = smtp_transcript($srv['dir']);
echo "connections: ", substr_count($t, ' OPEN'), "\n";
echo "commands: ", implode(', ', array_map(fn($c) => strtok($c, ' :'), smtp_client_lines($t))), "\n";
var_dump(smtp_stats());
?>
--EXPECTF--
2 message(s) on connection(s) 1,1
connections: 1
commands: EHLO, MAIL, RCPT, DATA, <data, MAIL, RCPT, DATA, <data
array(8) {
  ["connections_opened"]=>
  int(1)
  ["connections_reused"]=>
  int(1)
  ["retries"]=>
  int(0)
  ["messages_sent"]=>
  int(2)
  ["failures"]=>
  int(0)
  ["unknown"]=>
  int(0)
  ["partial"]=>
  int(0)
  ["last_server"]=>
  string(%d) "127.0.0.1:%d"
}
