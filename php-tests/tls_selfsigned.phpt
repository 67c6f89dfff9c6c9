--TEST--
TLS: a self-signed certificate over STARTTLS is "not trusted" even with a cafile; no fallback to clear text
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.cafile={PWD}/.certs/ca.pem
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$srv = smtp_test_server(['--starttls', '--cert', "$certs/selfsigned.pem", '--key', "$certs/selfsigned.key"]);
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Self-signed', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
$cmds = smtp_client_lines(smtp_transcript($srv['dir'], '/CLOSE/'));
echo "commands: ", implode(', ', array_map(fn($c) => strtok($c, ' '), $cmds)), "\n";
?>
--EXPECTF--
SmtpException(0): smtp_send(): the TLS certificate of 127.0.0.1 is self-signed, so nothing vouches for it. Save that certificate (PEM) on this machine and set smtp.cafile in php.ini to it, or give the server a certificate from a CA
0 message(s)
commands: EHLO, STARTTLS
