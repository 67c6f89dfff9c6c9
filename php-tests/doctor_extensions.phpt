--TEST--
Doctor and phpinfo(): the extensions step lists which of PIPELINING, 8BITMIME, CHUNKING, SIZE, SMTPUTF8, DSN and REQUIRETLS the server offers after STARTTLS (REQUIRETLS is offered over TLS only); phpinfo() shows the same for the last server
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
$all = smtp_test_server(array_merge($tls, ['--chunking', '--dsn', '--requiretls']));
$few = smtp_test_server(['--no-smtputf8', '--no-pipelining', '--no-8bitmime']);

ob_start();
phpinfo(INFO_MODULES);
preg_match("/Last server's extensions => (.*)/", ob_get_clean(), $m);
echo "before: {$m[1]}\n";
foreach ([$all, $few] as $srv) {
    $r = smtp_diagnose(['port' => $srv['port']]);
    $step = array_column($r['steps'], null, 'step');
    echo "{$step['extensions']['status']}: {$step['extensions']['detail']}\n";
    smtp_send('to@example.test', 's', "b\n", ['From' => 'wiki@example.test'], ['port' => $srv['port']]);
    ob_start();
    phpinfo(INFO_MODULES);
    preg_match("/Last server's extensions => (.*)/", ob_get_clean(), $m);
    echo "phpinfo: ", str_replace((string) $srv['port'], 'PORT', $m[1]), "\n";
}
?>
--EXPECT--
before: (none yet)
ok: offered: PIPELINING, 8BITMIME, CHUNKING, SIZE 10485760, SMTPUTF8, DSN, REQUIRETLS; not offered: none
phpinfo: 127.0.0.1:PORT: offered: PIPELINING, 8BITMIME, CHUNKING, SIZE 10485760, SMTPUTF8, DSN, REQUIRETLS; not offered: none
ok: offered: SIZE 10485760; not offered: PIPELINING, 8BITMIME, CHUNKING, SMTPUTF8, DSN, REQUIRETLS
phpinfo: 127.0.0.1:PORT: offered: SIZE 10485760; not offered: PIPELINING, 8BITMIME, CHUNKING, SMTPUTF8, DSN, REQUIRETLS
