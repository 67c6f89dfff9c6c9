--TEST--
mail(): a caller's own encoded word next to UTF-8 text stays an encoded word (only the non-ASCII words are encoded), so a reader decodes it as with sendmail
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

var_dump(mail('to@example.test', "=?UTF-8?B?SGk=?= \u{20ac}", "Body\n", "From: wiki@example.test\r\nComments: \u{20ac} =?UTF-8?B?SGk=?="));
$r = smtp_received($srv['dir']);
$hdr = array_column(smtp_headers($r[0]['eml']), 1, 0);
foreach (['Subject', 'Comments'] as $h) {
    echo "$h: {$hdr[$h]}\n  decoded: ", smtp_decode_words($hdr[$h]), "\n";
}
?>
--EXPECT--
bool(true)
Subject: =?UTF-8?B?SGk=?= =?UTF-8?B?IOKCrA==?=
  decoded: Hi €
Comments: =?UTF-8?B?4oKsIA==?= =?UTF-8?B?SGk=?=
  decoded: € Hi
