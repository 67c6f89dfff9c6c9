--TEST--
Errors: smtp.auth=1 and a server offering only XOAUTH2: the message must not call XOAUTH2 both offered and unsupported
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=1
smtp.username=wiki
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'secret', '--auth-mechs', 'XOAUTH2']);
ini_set('smtp.port', (string) $srv['port']);
// The script's own password (php.ini's would be bound to php.ini's port, not the test server's).
ini_set('smtp.password', 'secret');
try {
    smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    $msg = $e->getMessage();
    echo "code ", $e->getCode(), "\n";
    echo "mentions XOAUTH2: ", var_export(str_contains($msg, 'XOAUTH2'), true), "\n";
    // "offers no method this extension supports (it offers: XOAUTH2; supported: PLAIN, LOGIN, XOAUTH2)"
    // contradicts itself: with smtp.auth=1 XOAUTH2 is never picked (it needs a token, not a password).
    $contradiction = preg_match('/it offers: ([^;]*); supported: ([^)]*)\)/', $msg, $m)
        && array_intersect(preg_split('/[\s,]+/', $m[1]), preg_split('/[\s,]+/', $m[2]));
    echo "self-contradictory: ", var_export((bool) $contradiction, true), "\n";
    if ($contradiction) {
        echo $msg, "\n";
    }
}
echo "MAIL sent: ", var_export(str_contains(smtp_transcript($srv['dir']), 'C: MAIL'), true), "\n";
?>
--EXPECT--
code 0
mentions XOAUTH2: true
self-contradictory: false
MAIL sent: false
