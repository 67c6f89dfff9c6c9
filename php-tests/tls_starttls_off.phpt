--TEST--
TLS: smtp.starttls=off (php.ini style, and as a per-call option) with a server that offers STARTTLS: no upgrade, delivered in clear text (json tls false)
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.cafile={PWD}/.certs/ca.pem
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.pool=0
smtp.starttls=off
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key"]);
ini_set('smtp.port', (string) $srv['port']);

// 1. As written in php.ini (the --INI-- section goes through PHP's ini parser, like php.ini and -d).
smtp_send('to@example.test', 'No TLS (ini)', "Body\n", ['From' => 'wiki@example.test']);
// 2. As a per-call option, over an ini value of auto.
ini_set('smtp.starttls', 'auto');
smtp_send('to@example.test', 'No TLS (option)', "Body\n", ['From' => 'wiki@example.test'], ['starttls' => 'off']);

$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s)\n";
foreach ($r as $i => $m) {
    echo "connection {$m['connection']}: tls ", var_export($m['tls'], true), ", rcpt ", implode(',', $m['rcpt_to']), "\n";
}
$t = smtp_transcript($srv['dir'], '/^2 CLOSE$/m');
echo "server offered STARTTLS: ", var_export(str_contains($t, 'S: 250 STARTTLS') || str_contains($t, 'S: 250-STARTTLS'), true), "\n";
preg_match_all('/^(\d+) C: (\S+)/m', $t, $m, PREG_SET_ORDER);
$per = [];
foreach ($m as [, $conn, $verb]) {
    $per[$conn][] = $verb;
}
foreach ($per as $conn => $verbs) {
    echo "connection $conn: ", implode(', ', $verbs), "\n";
}
?>
--EXPECT--
2 message(s)
connection 1: tls false, rcpt to@example.test
connection 2: tls false, rcpt to@example.test
server offered STARTTLS: true
connection 1: EHLO, MAIL, RCPT, DATA, <data, QUIT
connection 2: EHLO, MAIL, RCPT, DATA, <data, QUIT
