--TEST--
Doctor: a wrong password: the auth step fails with 535 and the username/password hint, the sender is not tried, the password is nowhere in the report
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
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'right']);

$r = smtp_diagnose(['port' => $srv['port'], 'auth' => 'PLAIN', 'username' => 'wiki',
    'password' => 'Wr0ng-Passw0rd', 'from' => 'wiki@example.test']);
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}\n";
}
$step = array_column($r['steps'], null, 'step');
echo "settings: {$step['settings']['detail']}\n";
echo "auth: {$step['auth']['detail']}\n";
echo "auth fix: {$step['auth']['fix']}\n";
echo "password in the report: ", var_export(str_contains(serialize($r), 'Wr0ng-Passw0rd'), true), "\n";
$cmds = smtp_client_lines(smtp_transcript($srv['dir'], '/CLOSE/'));
// QUIT or not after the failure is the client's choice; what matters is that no MAIL follows.
$verbs = array_diff(array_map(fn($c) => strtok($c, ' '), $cmds), ['QUIT']);
echo "commands: ", implode(', ', $verbs), "\n";
?>
--EXPECTF--
ok: false
settings: ok
dns: ok
connect: ok
greeting: ok
ehlo: ok
tls: warning
extensions: ok
auth: failed
sender: skipped
settings: 127.0.0.1:%d (STARTTLS when offered), login as wiki, timeout 5 s
auth: the server said "535 5.7.8 Authentication credentials invalid"
auth fix: authentication failed; the server said: "535 5.7.8 Authentication credentials invalid". Check smtp.username and smtp.password (many providers require an app password or an API key instead of the account password)
password in the report: false
commands: EHLO, AUTH
