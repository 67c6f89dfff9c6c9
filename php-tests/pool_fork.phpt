--TEST--
Pool: after pcntl_fork() the child opens its own connection, the parent keeps using its own; every mail arrives once
--EXTENSIONS--
smtp
pcntl
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

smtp_send('to@example.test', 'parent before fork', "Body\n", ['From' => 'wiki@example.test']);
$pid = pcntl_fork();
if ($pid === 0) {
    // The child must not write into the parent's socket: it starts a pool of its own.
    smtp_send('to@example.test', 'child', "Body\n", ['From' => 'wiki@example.test']);
    // Leave without running the parent's shutdown functions (they stop the test server).
    pcntl_exec('/bin/true');
}
pcntl_waitpid($pid, $status);
smtp_send('to@example.test', 'parent after fork', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir'], 3);
foreach ($r as $m) {
    preg_match('/^Subject: (.*)$/m', $m['eml'], $s);
    echo "connection ", $m['connection'], ": ", trim($s[1]), "\n";
}
$t = smtp_transcript($srv['dir']);
echo "connections: ", substr_count($t, ' OPEN'), "\n";
$st = smtp_stats();
echo "parent opened ", $st['connections_opened'], ", reused ", $st['connections_reused'], "\n";
?>
--EXPECT--
connection 1: parent before fork
connection 2: child
connection 1: parent after fork
connections: 2
parent opened 1, reused 1
