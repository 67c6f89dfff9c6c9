--TEST--
smtp_send(): a UTF-8 body to a server without 8BITMIME goes as quoted-printable without the BODY= parameter (as Postfix converts it); a multipart body with 8-bit parts is refused unsent
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
$srv = smtp_test_server(['--no-8bitmime']);
ini_set('smtp.port', (string) $srv['port']);

smtp_send('to@example.test', 'Umlauts', "Grüße\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "mail params: ", json_encode($r[0]['mail_params']), "\n";
echo "body: ", json_encode(smtp_body($r[0]['eml'])), "\n";
preg_match_all('/^(MIME-Version|Content-Type|Content-Transfer-Encoding): .*$/mi', $r[0]['eml'], $m);
echo implode("\n", array_map('trim', $m[0])), "\n";
echo "7-bit: ", var_export(!preg_match('/[\x80-\xff]/', $r[0]['eml']), true), "\n";
try {
    smtp_send('to@example.test', 'Parts', "--b\n\nGrüße\n--b--\n", ['From' => 'wiki@example.test', 'Content-Type' => 'multipart/mixed; boundary=b']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 2, 0.5)), " message(s)\n";
?>
--EXPECTF--
1 message(s)
mail params: []
body: "Gr=C3=BC=C3=9Fe\r\n"
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable
7-bit: true
SmtpException(0): %s8BITMIME%s
1 message(s)
