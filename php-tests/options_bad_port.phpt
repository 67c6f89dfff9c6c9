--TEST--
smtp_send(): an invalid port (options or ini) is an SmtpException with a clear message
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

foreach (['smtp', 70000, 0, -1, '25x'] as $port) {
    try {
        smtp_send('to@example.test', 'Port', "Hi\n", ['From' => 'wiki@example.test'], ['port' => $port]);
        echo "sent?!\n";
    } catch (SmtpException $e) {
        smtp_show_exception($e);
    }
}
ini_set('smtp.port', 'submission');
try {
    smtp_send('to@example.test', 'Port', "Hi\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
}
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECT--
SmtpException(0): smtp_send(): invalid setting: port "smtp" is not a number (usually 587, 465 or 25)
SmtpException(0): smtp_send(): invalid setting: port 70000 is out of range (1-65535)
SmtpException(0): smtp_send(): invalid setting: port 0 is out of range (1-65535)
SmtpException(0): smtp_send(): invalid setting: port -1 is out of range (1-65535)
SmtpException(0): smtp_send(): invalid setting: port "25x" is not a number (usually 587, 465 or 25)
SmtpException(0): smtp_send(): invalid setting: port "submission" is not a number (usually 587, 465 or 25)
connections: 0
