--TEST--
OAuth delegated: bin/smtp-doctor oauth-login signs in with the device code (prints the URL and code, waits through authorization_pending) and writes the refresh token file 0600; php.ini settings with smtp.oauth_provider=microsoft-delegated then send with XOAUTH2; a revoked refresh token fails naming the sign-in command
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/server.inc';

function loaded_extension_path(): string
{
    if (preg_match_all('/-d "extension=([^"]+)"/', (string) getenv('TEST_PHP_EXTRA_ARGS'), $m)) {
        foreach ($m[1] as $path) {
            $path = stripslashes($path);
            if (str_contains(basename($path), 'smtp') && is_file($path)) {
                return $path;
            }
        }
    }
    foreach (@file('/proc/self/maps') ?: [] as $line) {
        if (preg_match('#\s(/\S*smtp[^/\s]*\.so)$#', rtrim($line), $m)) {
            return $m[1];
        }
    }
    throw new RuntimeException('cannot find the path of the loaded smtp extension');
}

/** Runs PHP with the extension, these -d settings and arguments; returns [status, stdout, stderr]. */
function php_run(array $ini, array $args): array
{
    $cmd = [PHP_BINARY, '-n', '-d', 'extension=' . loaded_extension_path()];
    foreach ($ini as $k => $v) {
        array_push($cmd, '-d', "$k=$v");
    }
    $proc = proc_open(array_merge($cmd, $args), [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
        $pipes, null, ['PATH' => (string) getenv('PATH')]);
    fclose($pipes[0]);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    return [proc_close($proc), $out, $err];
}

$certs = smtp_test_certs();
$tokens = smtp_test_server(['--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--client', 'wiki-public=', '--device-pending', '1', '--rotate'], 'token_server.py');
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--auth-requires-tls', '--auth-user', 'wiki@example.test', '--auth-mechs', 'XOAUTH2',
    '--xoauth2-tokens', $tokens['dir'] . '/tokens']);
$dir = smtp_test_tmpdir('oauth-login');
$file = "$dir/refresh-token";
$ini = [
    'smtp.host' => '127.0.0.1', 'smtp.port' => $srv['port'], 'smtp.timeout' => '5',
    'smtp.cafile' => "$certs/ca.pem", 'smtp.auth' => 'XOAUTH2', 'smtp.username' => 'wiki@example.test',
    'smtp.oauth_provider' => 'microsoft-delegated', 'smtp.oauth_tenant' => 'common',
    'smtp.oauth_token_url' => "https://127.0.0.1:{$tokens['port']}/common/oauth2/v2.0/token",
    'smtp.oauth_client_id' => 'wiki-public', 'smtp.oauth_refresh_token_file' => $file,
    'smtp.idhost' => 'id.example.test', 'smtp.localhost' => 'client.example.test',
];

// 1. Sign in: the settings from php.ini (-d here), the command prints the provider's sentence.
[$rc, $out, $err] = php_run($ini, [smtp_test_root() . '/bin/smtp-doctor', 'oauth-login']);
echo "oauth-login: exit $rc, stderr ", var_export($err, true), "\n$out";
printf("file mode %o, token valid: %s\n", fileperms($file) & 0777,
    var_export(in_array(trim(file_get_contents($file)),
        file($tokens['dir'] . '/refresh_tokens', FILE_IGNORE_NEW_LINES), true), true));

// 2. Send with it: the refresh token is exchanged (and rotated: written back).
$send = 'try { echo smtp_send("rcpt@example.test", "s", "b\n", ["From" => "wiki@example.test"]) ? "sent\n" : ""; }'
    . ' catch (SmtpException $e) { echo get_class($e), ": ", $e->getMessage(), "\n"; }';
$before = file_get_contents($file);
[$rc, $out, $err] = php_run($ini, ['-r', $send]);
echo $out, $err;
echo "rotated and written back: ", var_export(file_get_contents($file) !== $before
    && in_array(trim(file_get_contents($file)), file($tokens['dir'] . '/refresh_tokens', FILE_IGNORE_NEW_LINES), true), true), "\n";

// 3. A revoked refresh token: the message names the command to sign in again.
file_put_contents($file, "rt.revoked\n");
[$rc, $out, $err] = php_run($ini, ['-r', $send]);
echo wordwrap($out, 150, "\n", true), $err;
?>
--EXPECTF--
oauth-login: exit 0, stderr ''
To sign in, use a web browser to open the page https://microsoft.example/devicelogin and enter the code TEST-%d to authenticate.
Sign in as wiki@example.test there. Waiting...
Signed in. The refresh token is in %s/refresh-token; mail can be sent now.
file mode 600, token valid: true
sent
rotated and written back: true
SmtpException: smtp_send(): the token endpoint https://127.0.0.1:%d/common/oauth2/v2.0/token refused (HTTP 400, invalid_grant: "AADSTS700082: The
refresh token has expired due to inactivity. The token was issued on 2026-01-01 and was inactive for 90.00:00:00."). The refresh token in
smtp.oauth_refresh_token_file has expired or was revoked (a password change, a revoked consent, or 90 days unused). Sign in again as the mailbox:
smtp-doctor oauth-login (see the README's Microsoft 365 or Google section); it rewrites that file; the message was not sent
