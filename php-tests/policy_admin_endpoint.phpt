--TEST--
Policy: php.ini's password and OAuth token are used only with php.ini's whole endpoint: a script that changes the port, host, TLS mode, STARTTLS policy, auth mode or username (per call or ini_set) is refused before anything reaches the network; with its own password it may
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/admin.inc';
$admin = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'Admin-Pass-7731']);
$other = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'own']);
$ini = ['smtp.host' => '127.0.0.1', 'smtp.port' => $admin['port'], 'smtp.idhost' => 'id.example.test',
    'smtp.localhost' => 'client.example.test', 'smtp.timeout' => '5', 'smtp.auth' => 'PLAIN',
    'smtp.username' => 'wiki', 'smtp.password' => 'Admin-Pass-7731', 'smtp.pool' => '0',
    'smtp.debug' => '1', 'log_errors' => '1', 'error_log' => $log = smtp_test_tmpdir('log') . '/php.log'];
$code = <<<'PHP'
$other = (int) getenv('OTHER_PORT');
$send = fn (array $o = []) => smtp_send('to@example.test', 's', "b\n", ['From' => 'wiki@example.test'], $o);
$send();
echo "php.ini's endpoint: sent\n";
$changes = [
    'port' => (string) $other,
    'host' => 'localhost',
    'host ' => 'ssl://127.0.0.1',
    'host  ' => 'tls://127.0.0.1:' . $other,
    'starttls' => 'off',
    'auth' => 'LOGIN',
    'username' => 'ceo',
];
foreach ($changes as $name => $value) {
    $name = trim($name);
    foreach (['per call', 'ini_set'] as $how) {
        try {
            if ($how === 'per call') {
                $send([$name => $value]);
            } else {
                ini_set("smtp.$name", $value);
                try { $send(); } finally { ini_restore("smtp.$name"); }
            }
            echo "$name=$value $how: sent?!\n";
        } catch (SmtpException $e) {
            $m = $e->getMessage();
            preg_match('/this call changes (.*?)\. Give/', $m, $what);
            echo "$name=$value $how: refused (", $what[1] ?? $m, ")",
                str_contains($m, 'Admin-Pass') ? ' SHOWS THE PASSWORD' : '', "\n";
        }
    }
}
// The script's own password goes where the script says.
$send(['port' => $other, 'password' => 'own']);
echo "own password to the other port: sent\n";
PHP;
echo smtp_admin_php($ini, $code, ['OTHER_PORT' => (string) $other['port']]);
echo "at php.ini's server: ", count(smtp_received($admin['dir'], 1)), " message(s), ",
    substr_count(smtp_transcript($admin['dir']), ' OPEN'), " connection(s)\n";
echo "at the other server: ", count(smtp_received($other['dir'], 1)), " message(s), ",
    substr_count(smtp_transcript($other['dir']), ' OPEN'), " connection(s), AUTH: ",
    implode(' ', preg_grep('/^AUTH/', smtp_client_lines(smtp_transcript($other['dir'])))), "\n";
$text = (string) @file_get_contents($log);
echo "debug log: ", str_contains($text, 'AUTH') ? 'AUTH logged' : 'no AUTH line', ", password shown: ",
    var_export(str_contains($text, 'Admin-Pass-7731') || str_contains($text, base64_encode("\0wiki\0Admin-Pass-7731")), true), "\n";

// OAuth from php.ini: the token acts for php.ini's mailbox only, whatever password comes along.
// The token endpoint is the other server: a refused call never even asks it for a token.
$watch = smtp_test_server();
$ini = ['smtp.host' => '127.0.0.1', 'smtp.port' => $admin['port'], 'smtp.timeout' => '5',
    'smtp.idhost' => 'id.example.test', 'smtp.localhost' => 'client.example.test',
    'smtp.auth' => 'XOAUTH2', 'smtp.username' => 'wiki@example.test', 'smtp.pool' => '0',
    'smtp.oauth_provider' => 'microsoft', 'smtp.oauth_tenant' => 'contoso',
    'smtp.oauth_token_url' => "https://127.0.0.1:{$watch['port']}/token",
    'smtp.oauth_client_id' => 'app', 'smtp.oauth_client_secret' => 'Client-Secret-5519'];
$code = <<<'PHP'
foreach ([['username' => 'ceo@example.test'], ['username' => 'ceo@example.test', 'password' => 'x'],
          ['port' => 2525]] as $o) {
    try {
        smtp_send('to@example.test', 's', "b\n", ['From' => 'wiki@example.test'], $o);
        echo "sent?!\n";
    } catch (SmtpException $e) {
        echo json_encode($o), ": ", str_contains($e->getMessage(), 'the OAuth token comes from the administrator')
            ? 'refused' : $e->getMessage(), str_contains($e->getMessage(), 'Client-Secret') ? ' SHOWS THE SECRET' : '', "\n";
    }
}
ini_set('smtp.username', 'ceo@example.test');
try {
    smtp_send('to@example.test', 's', "b\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    echo "ini_set username: ", str_contains($e->getMessage(), 'the OAuth token comes from the administrator')
        ? 'refused' : $e->getMessage(), "\n";
}
PHP;
echo smtp_admin_php($ini, $code);
echo "connections to the token endpoint: ", substr_count(smtp_transcript($watch['dir']), ' OPEN'), "\n";
echo "connections to php.ini's server: ", substr_count(smtp_transcript($admin['dir']), ' OPEN'), "\n";
?>
--EXPECTF--
php.ini's endpoint: sent
port=%d per call: refused (the server "127.0.0.1:%d" (the administrator's: "127.0.0.1:%d"; smtp.host, smtp.port))
port=%d ini_set: refused (the server "127.0.0.1:%d" (the administrator's: "127.0.0.1:%d"; smtp.host, smtp.port))
host=localhost per call: refused (the server "localhost:%d" (the administrator's: "127.0.0.1:%d"; smtp.host, smtp.port))
host=localhost ini_set: refused (the server "localhost:%d" (the administrator's: "127.0.0.1:%d"; smtp.host, smtp.port))
host=ssl://127.0.0.1 per call: refused (the server "ssl://127.0.0.1:%d" (the administrator's: "127.0.0.1:%d"; smtp.host, smtp.port))
host=ssl://127.0.0.1 ini_set: refused (the server "ssl://127.0.0.1:%d" (the administrator's: "127.0.0.1:%d"; smtp.host, smtp.port))
host=tls://127.0.0.1:%d per call: refused (the server "ssl://127.0.0.1:%d" (the administrator's: "127.0.0.1:%d"; smtp.host, smtp.port))
host=tls://127.0.0.1:%d ini_set: refused (the server "ssl://127.0.0.1:%d" (the administrator's: "127.0.0.1:%d"; smtp.host, smtp.port))
starttls=off per call: refused (smtp.starttls to "off" (the administrator's: "auto"))
starttls=off ini_set: refused (smtp.starttls to "off" (the administrator's: "auto"))
auth=LOGIN per call: refused (smtp.auth to "LOGIN" (the administrator's: "PLAIN"))
auth=LOGIN ini_set: refused (smtp.auth to "LOGIN" (the administrator's: "PLAIN"))
username=ceo per call: refused (smtp.username to "ceo" (the administrator's: "wiki"))
username=ceo ini_set: refused (smtp.username to "ceo" (the administrator's: "wiki"))
own password to the other port: sent
at php.ini's server: 1 message(s), 1 connection(s)
at the other server: 1 message(s), 1 connection(s), AUTH: AUTH PLAIN AHdpa2kAb3du
debug log: AUTH logged, password shown: false
{"username":"ceo@example.test"}: refused
{"username":"ceo@example.test","password":"x"}: refused
{"port":2525}: refused
ini_set username: refused
connections to the token endpoint: 0
connections to php.ini's server: 1
