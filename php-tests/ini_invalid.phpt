--TEST--
ini: invalid smtp.* values give an SmtpException naming the setting, and phpinfo says "invalid"; nothing is sent
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

$bad = [
    ['smtp.timeout', '0'],
    ['smtp.timeout', 'soon'],
    ['smtp.auth', 'CRAM-MD5'],
    ['smtp.auth', '1'],          // on, but no username
    ['smtp.host', 'smtp://mail.example.test'],
    ['smtp.host', ''],
    ['smtp.idhost', 'bad host'],
    ['smtp.pool', 'maybe'],
];
foreach ($bad as [$name, $value]) {
    $old = ini_set($name, $value);
    try {
        smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 'wiki@example.test']);
        echo "$name=$value: sent?!\n";
    } catch (SmtpException $e) {
        echo "$name=$value: ", $e->getMessage(), "\n";
    }
    ini_set($name, $old);
}
ini_set('smtp.timeout', '0');
echo preg_match('/^Settings => .*$/m', smtp_phpinfo(), $m) ? $m[0] : '(no Settings line)', "\n";
echo "connections: ", substr_count(smtp_transcript($srv['dir']), ' OPEN'), "\n";
?>
--EXPECT--
smtp.timeout=0: smtp_send(): invalid setting: timeout 0 is out of range
smtp.timeout=soon: smtp_send(): invalid setting: timeout "soon" is not a number
smtp.auth=CRAM-MD5: smtp_send(): invalid setting: auth "CRAM-MD5" is not valid: use 0, 1, PLAIN, LOGIN or XOAUTH2
smtp.auth=1: smtp_send(): invalid setting: smtp.auth is on but smtp.username is empty; set the account name (and smtp.password), or turn smtp.auth off
smtp.host=smtp://mail.example.test: smtp_send(): invalid setting: host "smtp://mail.example.test" has an unknown prefix "smtp://"; use ssl:// or tls:// for implicit TLS, or a plain host name for STARTTLS
smtp.host=: smtp_send(): invalid setting: host is empty; set smtp.host to your SMTP server
smtp.idhost=bad host: smtp_send(): invalid setting: idhost "bad host" is not a valid host name
smtp.pool=maybe: smtp_send(): invalid setting: pool "maybe" is not on/off
Settings => invalid: invalid setting: timeout 0 is out of range
connections: 0
