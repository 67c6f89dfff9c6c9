--TEST--
mail()/smtp_send(): no body line over 998 octets goes out: a single-part body becomes quoted-printable, a multipart one is broken as Postfix breaks it (CRLF + space)
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.override_mail=1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

$long = "start\n" . str_repeat("x", 1200) . " " . str_repeat("é", 700) . "\nend\n";
var_dump(mail('to@example.test', 'Long', $long, "From: wiki@example.test\r\nContent-Transfer-Encoding: 8bit"));
smtp_send('to@example.test', 'Parts', "--b\n" . str_repeat("y", 2500) . "\n--b--\n",
    ['From' => 'wiki@example.test', 'Content-Type' => 'multipart/mixed; boundary=b']);
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s)\n";
foreach ($r as $m) {
    $longest = max(array_map('strlen', explode("\r\n", $m['eml'])));
    echo "longest line: ", $longest, "\n";
    preg_match_all('/^(MIME-Version|Content-Type|Content-Transfer-Encoding): .*$/mi', $m['eml'], $h);
    echo implode("\n", array_map('trim', $h[0])), "\n";
}
echo "decoded: ", var_export(quoted_printable_decode(smtp_body($r[0]['eml'])) === str_replace("\n", "\r\n", $long), true), "\n";
echo "unfolded: ", var_export(str_replace("\r\n ", "", smtp_body($r[1]['eml'])) === "--b\r\n" . str_repeat("y", 2500) . "\r\n--b--\r\n", true), "\n";
?>
--EXPECT--
bool(true)
2 message(s)
longest line: 76
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable
longest line: 998
Content-Type: multipart/mixed; boundary=b
decoded: true
unfolded: true
