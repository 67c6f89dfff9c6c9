--TEST--
Errors: connection refused (nothing listening) is an SmtpException with code 0 naming host and port
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
$port = smtp_free_port();
ini_set('smtp.port', (string) $port);

try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    smtp_show_exception($e);
    echo "names the port: ", var_export(str_contains($e->getMessage(), "127.0.0.1:$port"), true), "\n";
}
$s = smtp_stats();
echo "failures: {$s['failures']}, sent: {$s['messages_sent']}, opened: {$s['connections_opened']}\n";
?>
--EXPECTF--
SmtpException(0): smtp_send(): connection to 127.0.0.1:%d refused: no SMTP server is listening there. Check smtp.host and smtp.port: submission is usually port 587 (STARTTLS) or 465 (implicit TLS, host prefix ssl://); port 25 is often blocked by hosting providers
names the port: true
failures: 1, sent: 0, opened: 0
