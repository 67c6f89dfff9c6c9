--TEST--
mail(): an LF-folded Cc list delivers to every address in it; a folded UTF-8 Subject and header are unfolded before RFC 2047 encoding; a structured header keeps its bytes
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
var_dump(mail('to@example.test', "Gr\u{fc}\u{df}e\r\n und mehr", "Body\n",
    "From: wiki@example.test\nCc: b@example.test,\n c@example.test\nX-Note: caf\u{e9}\r\n au lait\n" .
    "In-Reply-To: <caf\u{e9}@example.test>"));
$r = smtp_received($srv['dir']);
echo "envelope: ", implode(', ', $r[0]['rcpt_to']), "\n";
$h = array_column(smtp_headers($r[0]['eml']), 1, 0);
echo "Subject: ", smtp_decode_words($h['Subject']), "\n";
echo "X-Note: ", smtp_decode_words($h['X-Note']), "\n";
echo "In-Reply-To: ", $h['In-Reply-To'], "\n";
echo "CRLF only: ", var_export(smtp_crlf_only($r[0]['eml']), true), "\n";
?>
--EXPECT--
bool(true)
envelope: to@example.test, b@example.test, c@example.test
Subject: Grüße und mehr
X-Note: café au lait
In-Reply-To: <café@example.test>
CRLF only: true
