--TEST--
smtp_send(): recipients refused with 452 "too many recipients" go in a second transaction; each recipient gets the message once
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
$srv = smtp_test_server(['--rcpt-limit', '2']);
ini_set('smtp.port', (string) $srv['port']);

$id = smtp_send('a@example.test, b@example.test, c@example.test', 'Many', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir'], 2);
echo count($r), " transaction(s)\n";
foreach ($r as $m) {
    $hdr = array_column(smtp_headers($m['eml']), 1, 0);
    echo "RCPT TO: ", implode(' ', $m['rcpt_to']), "; same Message-ID: ", var_export($hdr['Message-ID'] === $id, true), "\n";
}
echo "identical data: ", var_export($r[0]['raw'] === $r[1]['raw'], true), "\n";
?>
--EXPECT--
2 transaction(s)
RCPT TO: a@example.test b@example.test; same Message-ID: true
RCPT TO: c@example.test; same Message-ID: true
identical data: true
