--TEST--
ini: settings are resolved again whenever an smtp.* value or the call's options change (ini_set, ini_restore, per-call options), one send after another in one request
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
$send = function (string $subject, array $options = []) {
    smtp_send('to@example.test', $subject, "Body\n", ['From' => 'wiki@example.test'], $options);
};
$send('1 ini');
$send('2 same again');
ini_set('smtp.localhost', 'changed.example.test');
$send('3 after ini_set');
ini_restore('smtp.localhost');
$send('4 after ini_restore');
$send('5 with an option', ['localhost' => 'option.example.test']);
$send('6 without it again');
$r = smtp_received($srv['dir'], 6);
$lines = [];
foreach ($r as $m) {
    $lines[] = array_column(smtp_headers($m['eml']), 1, 0)['Subject'] . ": EHLO {$m['helo']}";
}
sort($lines);
echo implode("\n", $lines), "\n";
?>
--EXPECT--
1 ini: EHLO client.example.test
2 same again: EHLO client.example.test
3 after ini_set: EHLO changed.example.test
4 after ini_restore: EHLO client.example.test
5 with an option: EHLO option.example.test
6 without it again: EHLO client.example.test
