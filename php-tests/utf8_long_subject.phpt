--TEST--
smtp_send(): a long UTF-8 subject becomes several encoded words, lines <= 76 chars (RFC 2047 section 2), decoding to the original
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

$subject = str_repeat('Größenänderung – ', 8) . 'Ende';
smtp_send('to@example.test', $subject, "x\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
preg_match('/^Subject: .*?\r\n(?![ \t])/ms', $r[0]['eml'], $m);
$lines = explode("\r\n", rtrim($m[0]));
echo "several lines: ", var_export(count($lines) > 1, true), "\n";
// RFC 2047 section 2: a header line that holds an encoded-word is at most 76 characters,
// the "Subject: " prefix included.
$long = array_filter($lines, fn($l) => strlen($l) > 76);
echo "lines longer than 76: ", $long ? implode(', ', array_map(fn($l) => strlen($l) . ' (' . substr($l, 0, 20) . '...)', $long)) : 'none', "\n";
$words = preg_match_all('/=\?UTF-8\?B\?[A-Za-z0-9+\/=]+\?=/', $m[0]);
echo "encoded words: ", var_export($words > 1, true), "\n";
$value = preg_replace('/\r\n(?=[ \t])/', '', substr(rtrim($m[0]), strlen('Subject: ')));
echo "decodes to the original: ", var_export(smtp_decode_words($value) === $subject, true), "\n";
echo "each word is valid UTF-8 on its own: ";
preg_match_all('/=\?UTF-8\?B\?([A-Za-z0-9+\/=]+)\?=/', $m[0], $w);
echo var_export(array_filter($w[1], fn($b) => !preg_match('//u', base64_decode($b))) === [], true), "\n";
?>
--EXPECT--
1 message(s)
several lines: true
lines longer than 76: none
encoded words: true
decodes to the original: true
each word is valid UTF-8 on its own: true
