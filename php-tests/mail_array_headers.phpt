--TEST--
mail() override: array headers, an array value gives the header several times
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

var_dump(mail('to@example.test', 'Array headers', "Body\n", [
    'From' => 'Wiki <wiki@example.test>',
    'X-Tag' => ['one', 'two', 'three'],
    'Reply-To' => 'replies@example.test',
]));
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "MAIL FROM: <{$r[0]['mail_from']}>\n";
foreach (smtp_headers($r[0]['eml']) as [$name, $value]) {
    if ($name !== 'Date' && $name !== 'Message-ID') {
        echo "$name: $value\n";
    }
}
?>
--EXPECT--
bool(true)
1 message(s)
MAIL FROM: <wiki@example.test>
To: to@example.test
Subject: Array headers
From: Wiki <wiki@example.test>
X-Tag: one
X-Tag: two
X-Tag: three
Reply-To: replies@example.test
