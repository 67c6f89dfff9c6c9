--TEST--
TLS: smtp.verify_peer=0 accepts a self-signed certificate (delivered over TLS) and writes a warning about it to PHP's error log
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.verify_peer=0
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$srv = smtp_test_server(['--starttls', '--cert', "$certs/selfsigned.pem", '--key', "$certs/selfsigned.key"]);
ini_set('smtp.port', (string) $srv['port']);
$log = smtp_test_tmpdir('log') . '/php_errors.log';
ini_set('error_log', $log);

smtp_send('to@example.test', 'Unverified', "Body\n", ['From' => 'wiki@example.test']);
$r = smtp_received($srv['dir']);
echo count($r), " message(s), tls: ", var_export($r[0]['tls'], true), "\n";
$lines = preg_grep('/verify_peer=0/', file($log, FILE_IGNORE_NEW_LINES) ?: []);
echo count($lines), " warning line(s)\n";
foreach ($lines as $l) {
    echo preg_replace('/^\[[^]]*\] /', '', $l), "\n";
}

// The escape hatch is the administrator's: a script can neither turn it back on nor off.
var_dump(ini_set('smtp.verify_peer', '1'), ini_get('smtp.verify_peer'));
?>
--EXPECT--
1 message(s), tls: true
1 warning line(s)
smtp: smtp.verify_peer=0: the TLS certificate of 127.0.0.1 is not checked; anyone between here and the server can read the mail and the password
bool(false)
string(1) "0"
