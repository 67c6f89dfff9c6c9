--TEST--
smtp_send(): UTF-8 display names are RFC 2047 encoded (=?UTF-8?B?...?=); in a Subject only the non-ASCII words are
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

smtp_send('Jörg Müller <joerg@example.test>', 'Grüße aus Köln', "ascii body\n", ['From' => 'Wiki Ü <wiki@example.test>']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
$m = $r[0];
echo "RCPT TO: ", implode(' ', $m['rcpt_to']), "\n";
$hdr = array_column(smtp_headers($m['eml']), 1, 0);
foreach (['To', 'Subject', 'From'] as $h) {
    echo "$h: {$hdr[$h]}\n";
    echo "  decoded: ", smtp_decode_words($hdr[$h]), "\n";
}
echo "header block is ASCII: ", var_export(!preg_match('/[\x80-\xff]/', explode("\r\n\r\n", $m['eml'])[0]), true), "\n";
echo "MIME headers for an ASCII body: ", var_export(isset($hdr['MIME-Version']), true), "\n";
echo "mail params: ", json_encode($m['mail_params']), "\n";
?>
--EXPECT--
1 message(s)
RCPT TO: joerg@example.test
To: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg@example.test>
  decoded: Jörg Müller <joerg@example.test>
Subject: =?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?=
  decoded: Grüße aus Köln
From: =?UTF-8?B?V2lraSDDnA==?= <wiki@example.test>
  decoded: Wiki Ü <wiki@example.test>
header block is ASCII: true
MIME headers for an ASCII body: false
mail params: []
