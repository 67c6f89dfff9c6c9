--TEST--
Doctor: with OAuth settings the report has a token step before AUTH (fetched, expiry, scope), and XOAUTH2 logs in with it; a wrong client secret fails the token step with the endpoint's words and no secret
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.cafile={PWD}/.certs/ca.pem
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$certs = smtp_test_certs();
$secret = 'Xy7~Q8r.Sec+ret';
$tokens = smtp_test_server(['--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--tenant', 'contoso', '--client', "wiki-app=$secret"], 'token_server.py');
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--auth-requires-tls', '--auth-user', 'wiki@example.test', '--auth-mechs', 'LOGIN XOAUTH2',
    '--xoauth2-tokens', $tokens['dir'] . '/tokens']);

function report(array $srv, array $tokens, string $secret): array {
    return smtp_diagnose(['port' => $srv['port'], 'auth' => 'XOAUTH2', 'username' => 'wiki@example.test',
        'oauth_provider' => 'microsoft', 'oauth_tenant' => 'contoso',
        'oauth_token_url' => "https://127.0.0.1:{$tokens['port']}/contoso/oauth2/v2.0/token",
        'oauth_client_id' => 'wiki-app', 'oauth_client_secret' => $secret,
        'from' => 'wiki@example.test']);
}
$r = report($srv, $tokens, $secret);
echo "ok: ", var_export($r['ok'], true), "\n";
foreach ($r['steps'] as $s) {
    echo "{$s['step']}: {$s['status']}", $s['step'] === 'token' ? " ({$s['detail']})" : '', "\n";
}

$r = report($srv, $tokens, 'not the secret');
foreach ($r['steps'] as $s) {
    if ($s['step'] === 'token') {
        echo "token: {$s['status']}\n  fix: {$s['fix']}\n";
        echo "  shows a secret: ", var_export(str_contains($s['fix'], 'not the secret'), true), "\n";
    }
}
?>
--EXPECTF--
ok: true
settings: ok
dns: ok
connect: ok
greeting: ok
ehlo: ok
tls: ok
extensions: ok
token: ok (fetched a new token (expires in %d s); provider microsoft, scope https://outlook.office365.com/.default)
auth: ok
sender: ok
token: failed
  fix: %sAADSTS7000215%s
  shows a secret: false
