--TEST--
DSN (RFC 3461): $options['dsn'] (notify as a string or an array, ret, envid) and the smtp.dsn_notify / smtp.dsn_ret defaults for mail() put NOTIFY, ORCPT, RET and ENVID (xtext) on the wire of a server that offers DSN; nothing asked sends nothing; bad values are refused before anything is sent
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
$srv = smtp_test_server(['--dsn']);
ini_set('smtp.port', (string) $srv['port']);
$from = ['From' => 'wiki@example.test'];

smtp_send('a+b@example.test', 'one', "b\n", $from,
    ['dsn' => ['notify' => ['failure', 'delay'], 'ret' => 'hdrs', 'envid' => 'reset 42']]);
smtp_send('c@example.test', 'two', "b\n", $from, ['dsn' => ['notify' => 'never']]);
smtp_send('d@example.test', 'three', "b\n", $from);
ini_set('smtp.override_mail', '1');
ini_set('smtp.dsn_notify', 'success,failure');
ini_set('smtp.dsn_ret', 'full');
mail('e@example.test', 'four', "b\n", $from);

foreach (smtp_received($srv['dir'], 4) as $m) {
    echo json_encode($m['mail_params']), ' ', json_encode($m['rcpt_params']), "\n";
}
ini_restore('smtp.dsn_notify');
ini_restore('smtp.dsn_ret');
foreach ([['notify' => 'sometimes'], ['notify' => ['never', 'failure']], ['ret' => 'body'],
          ['envid' => "a\r\nb"], ['envid' => str_repeat('x', 101)], ['notfy' => 'never'], 'failure'] as $bad) {
    try {
        smtp_send('f@example.test', 'bad', "b\n", $from, ['dsn' => $bad]);
        echo "sent\n";
    } catch (SmtpException | TypeError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
echo count(smtp_received_all($srv['dir'])), " message(s)\n";
?>
--EXPECTF--
["RET=HDRS","ENVID=reset+2042"] [["NOTIFY=FAILURE,DELAY","ORCPT=rfc822;a+2Bb@example.test"]]
[] [["NOTIFY=NEVER","ORCPT=rfc822;c@example.test"]]
[] [[]]
["RET=FULL"] [["NOTIFY=SUCCESS,FAILURE","ORCPT=rfc822;e@example.test"]]
SmtpException: smtp_send(): invalid setting: dsn notify "sometimes" is not valid: use never, or any of success, failure, delay (comma separated, or an array)
SmtpException: smtp_send(): invalid setting: dsn notify "never,failure" is not valid: "never" cannot go with other values
SmtpException: smtp_send(): invalid setting: dsn ret "body" is not valid: use full (the whole message comes back in a bounce) or hdrs (only its headers)
SmtpException: smtp_send(): invalid setting: dsn envid has the character '\r': an envelope id is printable ASCII (letters, digits, punctuation, space)
SmtpException: smtp_send(): invalid setting: dsn envid is 101 characters long; RFC 3461 allows at most 100
SmtpException: smtp_send(): invalid setting: unknown key "notfy" in option "dsn"; its keys are notify, ret, envid, required
TypeError: smtp_send(): option "dsn" must be an array (['notify' => 'failure', 'ret' => 'hdrs', 'envid' => '...']), string given
4 message(s)
