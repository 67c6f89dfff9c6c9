--TEST--
smtp_send(): a non-ASCII address (jörg@example.org) to a server that cannot take SMTPUTF8 (HELO only) is refused, never sent raw in MAIL/RCPT (RFC 6531)
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
$srv = smtp_test_server(['--no-ehlo']);
ini_set('smtp.port', (string) $srv['port']);

foreach (['recipient' => ['jörg@example.org', 'wiki@example.test'],
          'sender' => ['to@example.test', 'jörg@example.org']] as $what => [$to, $from]) {
    try {
        smtp_send($to, 'Non-ASCII address', "Body\n", ['From' => $from]);
        echo "$what: sent\n";
    } catch (SmtpException | ValueError $e) {
        echo "$what: refused\n";
    }
}
$cmds = smtp_client_lines(smtp_transcript($srv['dir']));
echo "non-ASCII in a command: ", var_export((bool) preg_grep('/[^\x00-\x7f]/', $cmds), true), "\n";
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
recipient: refused
sender: refused
non-ASCII in a command: false
0 message(s)
