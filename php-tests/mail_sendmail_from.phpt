--TEST--
mail() override: without -f and From, ini sendmail_from is the sender (and the From header)
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
sendmail_from=default@example.test
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

var_dump(mail('to@example.test', 'Default sender', "Body\n"));
// A From header wins over sendmail_from.
var_dump(mail('to@example.test', 'From header', "Body\n", 'From: header@example.test'));
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s)\n";
foreach ($r as $m) {
    $hdr = array_column(smtp_headers($m['eml']), 1, 0);
    echo "MAIL FROM: <{$m['mail_from']}>, From: {$hdr['From']}\n";
}
?>
--EXPECT--
bool(true)
bool(true)
2 message(s)
MAIL FROM: <default@example.test>, From: default@example.test
MAIL FROM: <header@example.test>, From: header@example.test
