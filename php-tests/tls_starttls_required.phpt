--TEST--
TLS: smtp.starttls=required and a server without STARTTLS: SmtpException "does not offer STARTTLS", no MAIL, nothing delivered
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.starttls=required
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server([]);
ini_set('smtp.port', (string) $srv['port']);

try {
    smtp_send('to@example.test', 'Required TLS', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    printf("SmtpException(%d): %s\n", $e->getCode(), strtok($e->getMessage(), ','));
    echo "names 587 and ssl://: ", var_export(str_contains($e->getMessage(), '587')
        && str_contains($e->getMessage(), 'ssl://'), true), "\n";
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
$cmds = smtp_client_lines(smtp_transcript($srv['dir']));
echo "MAIL sent: ", var_export((bool) preg_grep('/^MAIL/', $cmds), true), "\n";
?>
--EXPECT--
SmtpException(0): smtp_send(): 127.0.0.1 does not offer STARTTLS
names 587 and ssl://: true
0 message(s)
MAIL sent: false
