--TEST--
mail() override: sendmail parameters that sendmail would take as more recipients, or refuse (a stray word, an unknown option, -f without an address), are refused with a warning and nothing is sent; -f with -i, -oi and -F passes
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

foreach (['-f bounce@example.test evil@example.test', '-X /tmp/log -f bounce@example.test', '-f'] as $p) {
    var_dump(mail('to@example.test', 'Params', "Body\n", 'From: wiki@example.test', $p));
}
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
var_dump(mail('to@example.test', 'Params', "Body\n", 'From: wiki@example.test', "-i -oi -F 'Wiki Bot' -f bounce@example.test"));
$r = smtp_received($srv['dir'], 1);
echo "MAIL FROM: <{$r[0]['mail_from']}>, RCPT: ", implode(' ', $r[0]['rcpt_to']), "\n";
?>
--EXPECTF--
Warning: mail(): the sendmail parameters (mail()'s 5th argument) cannot be taken over SMTP: "evil@example.test" is not a sendmail option this transport takes; only -f <address> (and -i, -t, -oi, -odb, -F <name>, which mean nothing here) apply in %s on line %d
bool(false)

Warning: mail(): the sendmail parameters (mail()'s 5th argument) cannot be taken over SMTP: "-X" is not a sendmail option this transport takes; only -f <address> (and -i, -t, -oi, -odb, -F <name>, which mean nothing here) apply in %s on line %d
bool(false)

Warning: mail(): the sendmail parameters (mail()'s 5th argument) cannot be taken over SMTP: "-f" is not followed by an address; only -f <address> (and -i, -t, -oi, -odb, -F <name>, which mean nothing here) apply in %s on line %d
bool(false)
connections: 0
bool(true)
MAIL FROM: <bounce@example.test>, RCPT: to@example.test
