--TEST--
OAuth delegated: bin/smtp-doctor oauth-login for google-user prints the URL to open (PKCE, offline access) and the ssh -L line, listens on 127.0.0.1, takes the browser's return with the code, exchanges it and writes the refresh token file 0600
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

$certs = smtp_test_certs();
$tokens = smtp_test_server(['--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--client', 'desktop-app=Desktop-Secret', '--auth-code', 'code.42'], 'token_server.py');
$dir = smtp_test_tmpdir('oauth-loopback');
$file = "$dir/refresh-token";
file_put_contents("$dir/secret", "Desktop-Secret\n");
$cmd = [PHP_BINARY, '-n', '-d', 'extension=' . loaded_extension_path(), smtp_test_root() . '/bin/smtp-doctor',
    'oauth-login', '--username=me@gmail.example', '--oauth-provider=google-user',
    '--oauth-client-id=desktop-app', "--oauth-client-secret-file=$dir/secret",
    "--oauth-token-url=https://127.0.0.1:{$tokens['port']}/token", "--oauth-refresh-token-file=$file",
    "--cafile=$certs/ca.pem", '--auth-url=https://accounts.example/auth', '--wait=30', '--timeout=5'];
$proc = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null,
    ['PATH' => (string) getenv('PATH')]);
fclose($pipes[0]);
// Read until the command waits for the browser.
$out = '';
while (!str_contains($out, 'Waiting') && !feof($pipes[1])) {
    $out .= fgets($pipes[1]);
}
preg_match('/^(https:\S+)$/m', $out, $url);
preg_match('/ssh -L (\d+):127\.0\.0\.1:(\d+) /', $out, $ssh);
parse_str(parse_url($url[1], PHP_URL_QUERY), $q);
echo "URL: ", parse_url($url[1], PHP_URL_HOST), parse_url($url[1], PHP_URL_PATH), "\n";
foreach (['client_id', 'redirect_uri', 'response_type', 'scope', 'access_type', 'prompt', 'code_challenge_method'] as $k) {
    echo "  $k=", preg_replace('/:\d+\//', ':PORT/', $q[$k]), "\n";
}
echo "ssh line names the listener's port: ", var_export($ssh[1] === $ssh[2]
    && $q['redirect_uri'] === "http://127.0.0.1:{$ssh[1]}/", true), "\n";
// The browser comes back.
$page = file_get_contents($q['redirect_uri'] . '?' . http_build_query(['state' => $q['state'], 'code' => 'code.42']));
echo "page: ", trim($page), "\n";
$rest = stream_get_contents($pipes[1]);
$err = stream_get_contents($pipes[2]);
fclose($pipes[1]);
fclose($pipes[2]);
echo "exit ", proc_close($proc), ", stderr ", var_export($err, true), "\n", trim($rest), "\n";
printf("file mode %o, token valid: %s\n", fileperms($file) & 0777, var_export(in_array(trim(file_get_contents($file)),
    file($tokens['dir'] . '/refresh_tokens', FILE_IGNORE_NEW_LINES), true), true));
?>
--EXPECTF--
URL: accounts.example/auth
  client_id=desktop-app
  redirect_uri=http://127.0.0.1:PORT/
  response_type=code
  scope=https://mail.google.com/
  access_type=offline
  prompt=consent
  code_challenge_method=S256
ssh line names the listener's port: true
page: Signed in. The refresh token is stored; you can close this tab.
exit 0, stderr ''
Signed in. The refresh token is in %s/refresh-token; mail can be sent now.
file mode 600, token valid: true
