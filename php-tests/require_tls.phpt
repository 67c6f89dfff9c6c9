--TEST--
REQUIRETLS (RFC 8689): $options['require_tls'] and smtp.require_tls (mail()) send MAIL FROM ... REQUIRETLS over verified STARTTLS to a server that offers it; without TLS, or to a server without REQUIRETLS, nothing is sent and the error says which; a caller's TLS-Required: No header arrives as given
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
smtp.pool=0
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$tls = ['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key"];
$with = smtp_test_server(array_merge($tls, ['--requiretls']));
$without = smtp_test_server($tls);
$from = ['From' => 'wiki@example.test'];

ini_set('smtp.port', (string) $with['port']);
smtp_send('a@example.test', 'one', "b\n", $from, ['require_tls' => true]);
ini_set('smtp.override_mail', '1');
ini_set('smtp.require_tls', '1');
var_dump(mail('b@example.test', 'two', "b\n", $from));
ini_restore('smtp.require_tls');
smtp_send('c@example.test', 'three', "b\n", $from + ['TLS-Required' => 'No']);
foreach (smtp_received($with['dir'], 3) as $m) {
    echo json_encode($m['mail_params']), ' tls=', var_export($m['tls'], true), ' ',
        preg_match('/^TLS-Required: No\r$/m', $m['eml']) ? 'TLS-Required: No' : '-', "\n";
}
foreach ([[$with, ['starttls' => 'off']], [$without, []]] as [$srv, $opts]) {
    try {
        smtp_send('d@example.test', 'four', "b\n", $from,
            $opts + ['port' => $srv['port'], 'require_tls' => true]);
        echo "sent\n";
    } catch (SmtpException $e) {
        echo $e->getMessage(), "\n";
    }
}
echo count(smtp_received_all($with['dir'])) + count(smtp_received_all($without['dir'])), " message(s)\n";
?>
--EXPECT--
bool(true)
["REQUIRETLS"] tls=true -
["REQUIRETLS"] tls=true -
[] tls=true TLS-Required: No
smtp_send(): the message requires TLS all the way (require_tls, RFC 8689), but to 127.0.0.1 the connection is not encrypted; the message was not sent. Use a server with STARTTLS (smtp.starttls=auto or required) or implicit TLS (ssl://)
smtp_send(): 127.0.0.1 does not offer REQUIRETLS (not in its EHLO reply), which the message requires (require_tls, RFC 8689); the message was not sent. Send through a server that offers REQUIRETLS, or send without require_tls
3 message(s)
