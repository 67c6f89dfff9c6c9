--TEST--
mail() override: "-f addr", "-faddr", -f "addr", -f 'addr' in the 5th argument set the envelope sender; -f '' the null sender (as sendmail)
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

$params = ['-f bounce1@example.test', '-fbounce2@example.test', '-f "bounce3@example.test"', "-odb -f 'bounce4@example.test'", "-f ''"];
foreach ($params as $p) {
    var_dump(mail('to@example.test', 'Minus f', "Body\n", 'From: Wiki <wiki@example.test>', $p));
}
$r = smtp_received($srv['dir'], count($params));
echo count($r), " message(s)\n";
foreach ($r as $m) {
    $hdr = array_column(smtp_headers($m['eml']), 1, 0);
    echo "MAIL FROM: <{$m['mail_from']}>, From: {$hdr['From']}\n";
}
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
5 message(s)
MAIL FROM: <bounce1@example.test>, From: Wiki <wiki@example.test>
MAIL FROM: <bounce2@example.test>, From: Wiki <wiki@example.test>
MAIL FROM: <bounce3@example.test>, From: Wiki <wiki@example.test>
MAIL FROM: <bounce4@example.test>, From: Wiki <wiki@example.test>
MAIL FROM: <>, From: Wiki <wiki@example.test>
