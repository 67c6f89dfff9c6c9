--TEST--
Header injection: a header name with a space, colon, CR/LF or non-ASCII is a ValueError (mail(): PHP's own, from php_mail_build_headers); numeric is a TypeError; an empty name is refused; nothing is sent
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

foreach (['X Note', 'X:Note', "X-Note\r\nBcc", 'Bcc: evil@example.test', 'Ünicode', ''] as $name) {
    foreach (['smtp_send', 'mail'] as $f) {
        try {
            $ok = $f('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test', $name => 'x']);
            echo "$f returned ", var_export($ok, true), "\n";
        } catch (Throwable $e) {
            smtp_show_exception($e);
        }
    }
}
try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test', 'plain value']);
} catch (Throwable $e) {
    smtp_show_exception($e);
}
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECTF--
ValueError(0): smtp_send(): Header name "X Note" contains invalid characters
ValueError(0): Header name "X Note" contains invalid characters
ValueError(0): smtp_send(): Header name "X:Note" contains invalid characters
ValueError(0): Header name "X:Note" contains invalid characters
ValueError(0): smtp_send(): Header name "X-Note??Bcc" contains invalid characters
ValueError(0): Header name "X-Note
Bcc" contains invalid characters
ValueError(0): smtp_send(): Header name "Bcc: evil@example.test" contains invalid characters
ValueError(0): Header name "Bcc: evil@example.test" contains invalid characters
ValueError(0): smtp_send(): Header name "Ünicode" contains invalid characters
ValueError(0): Header name "Ünicode" contains invalid characters
ValueError(0): smtp_send(): Header name "" contains invalid characters

Warning: mail(): Header name "" contains invalid characters in %s on line 9
mail returned false
TypeError(0): smtp_send(): Header name cannot be numeric, 0 given
connections: 0
