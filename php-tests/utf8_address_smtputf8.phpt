--TEST--
SMTPUTF8 (RFC 6531): a Unicode domain goes as its A-label to any server; a UTF-8 local part goes with MAIL FROM:<...> SMTPUTF8 and unencoded in the headers (RFC 6532) to a server that offers it, and fails unsent, naming the address, to one without; smtp_send() and mail() give the same bytes
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.pool=0
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$with = smtp_test_server();
$without = smtp_test_server(['--no-smtputf8']);
$headers = ['From' => 'Wiki <wiki@example.test>', 'Date' => 'Mon, 07 Dec 2026 10:00:00 +0000',
            'Message-ID' => '<same@example.test>'];
foreach ([['info@münchen.de', $without], ['José <josé@exemplo.br>', $with],
          ['José <josé@exemplo.br>', $without]] as [$to, $srv]) {
    ini_set('smtp.port', (string) $srv['port']);
    ini_set('smtp.override_mail', '1');
    $before = count(smtp_received_all($srv['dir']));
    try {
        smtp_send($to, 'Olá', "Olá\n", $headers);
        echo "smtp_send: sent\n";
    } catch (SmtpException $e) {
        echo "smtp_send: ", $e->getMessage(), "\n";
    }
    $ok = @mail($to, 'Olá', "Olá\n", $headers);
    echo "mail: ", $ok ? 'sent' : error_get_last()['message'], "\n";
    $got = smtp_received_all($srv['dir'], $before + 2, 3);
    echo "  arrived: ", count($got) - $before, "\n";
    if (count($got) === $before + 2) {
        [$a, $b] = array_slice($got, -2);
        echo "  MAIL FROM:<{$a['mail_from']}> ", implode(' ', $a['mail_params']), " RCPT TO:<",
            implode('> <', $a['rcpt_to']), ">\n";
        echo "  same bytes: ", var_export($a['eml'] === $b['eml'] && $a['rcpt_to'] === $b['rcpt_to'], true), "\n";
        echo "  To: ", array_column(smtp_headers($a['eml']), 1, 0)['To'], "\n";
    }
}
?>
--EXPECT--
smtp_send: sent
mail: sent
  arrived: 2
  MAIL FROM:<wiki@example.test> BODY=8BITMIME RCPT TO:<info@xn--mnchen-3ya.de>
  same bytes: true
  To: info@xn--mnchen-3ya.de
smtp_send: sent
mail: sent
  arrived: 2
  MAIL FROM:<wiki@example.test> BODY=8BITMIME SMTPUTF8 RCPT TO:<josé@exemplo.br>
  same bytes: true
  To: =?UTF-8?B?Sm9zw6k=?= <josé@exemplo.br>
smtp_send: smtp_send(): 127.0.0.1 does not offer SMTPUTF8 (not in its EHLO reply), which "josé@exemplo.br" needs: its part before the @ is not ASCII, and only a server with SMTPUTF8 (RFC 6531) takes such an address; the message was not sent. Send through a server that offers SMTPUTF8 (Postfix 3, Gmail, Microsoft 365), or use an ASCII address for this recipient
mail: mail(): 127.0.0.1 does not offer SMTPUTF8 (not in its EHLO reply), which "josé@exemplo.br" needs: its part before the @ is not ASCII, and only a server with SMTPUTF8 (RFC 6531) takes such an address; the message was not sent. Send through a server that offers SMTPUTF8 (Postfix 3, Gmail, Microsoft 365), or use an ASCII address for this recipient
  arrived: 0
