--TEST--
Doctor: the server refuses the sender with 550: the sender step fails with the $wgPasswordSender hint; MAIL is followed by RSET and no mail is sent
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
$srv = smtp_test_server(['--reply', 'MAIL=550 5.7.1 you are not authorized to use this sender']);

$r = smtp_diagnose(['port' => $srv['port'], 'from' => 'wiki@example.test']);
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}\n";
}
$step = array_column($r['steps'], null, 'step');
echo "sender: {$step['sender']['detail']}\n";
echo "sender fix: {$step['sender']['fix']}\n";
$cmds = smtp_client_lines(smtp_transcript($srv['dir'], '/CLOSE/'));
echo "commands: ", implode(', ', $cmds), "\n";
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";
?>
--EXPECT--
ok: false
settings: ok
dns: ok
connect: ok
greeting: ok
ehlo: ok
tls: warning
extensions: ok
auth: skipped
sender: failed
sender: the server said "550 5.7.1 you are not authorized to use this sender"
sender fix: the server refused the sender <wiki@example.test>; the server said: "550 5.7.1 you are not authorized to use this sender". Use the address of the SMTP account as the From address (in MediaWiki: $wgPasswordSender), or ask the provider to allow this sender.
commands: EHLO client.example.test, MAIL FROM:<wiki@example.test>, QUIT
0 message(s)
