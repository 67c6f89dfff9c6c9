--TEST--
OAuth delegated: PHP processes started together share one refresh-token file against an endpoint that revokes each refresh token when it rotates it: every process's exchange succeeds (each reads the token the one before wrote), every mail arrives, the file ends with the one valid token
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

/** Starts PHP with the extension, these -d settings and arguments; returns [process, pipes]. */
function php_start(array $ini, array $args): array
{
    $cmd = [PHP_BINARY, '-n', '-d', 'extension=' . loaded_extension_path()];
    foreach ($ini as $k => $v) {
        array_push($cmd, '-d', "$k=$v");
    }
    $proc = proc_open(array_merge($cmd, $args), [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
        $pipes, null, ['PATH' => (string) getenv('PATH')]);
    fclose($pipes[0]);
    return [$proc, $pipes];
}

function php_finish(array $started): string
{
    [$proc, $pipes] = $started;
    $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    return proc_close($proc) . ' ' . trim($out);
}

$certs = smtp_test_certs();
$tokens = smtp_test_server(['--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--client', 'wiki-public=', '--refresh-token', 'rt.first', '--rotate'], 'token_server.py');
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--auth-requires-tls', '--auth-user', 'wiki@example.test', '--auth-mechs', 'XOAUTH2',
    '--xoauth2-tokens', $tokens['dir'] . '/tokens']);
$dir = smtp_test_tmpdir('oauth-shared');
$file = "$dir/refresh-token";
file_put_contents($file, "rt.first\n");
chmod($file, 0600);
$ini = [
    'smtp.host' => '127.0.0.1', 'smtp.port' => $srv['port'], 'smtp.timeout' => '10',
    'smtp.cafile' => "$certs/ca.pem", 'smtp.auth' => 'XOAUTH2', 'smtp.username' => 'wiki@example.test',
    'smtp.oauth_provider' => 'microsoft-delegated', 'smtp.oauth_tenant' => 'common',
    'smtp.oauth_token_url' => "https://127.0.0.1:{$tokens['port']}/common/oauth2/v2.0/token",
    'smtp.oauth_client_id' => 'wiki-public', 'smtp.oauth_refresh_token_file' => $file,
    'smtp.idhost' => 'id.example.test', 'smtp.localhost' => 'client.example.test',
];
$send = 'try { smtp_send("rcpt@example.test", "s", "b\n", ["From" => "wiki@example.test"]); echo "sent"; }'
    . ' catch (SmtpException $e) { echo $e->getMessage(); }';
$results = [];
foreach ([1, 2] as $round) {
    $running = [];
    for ($i = 0; $i < 4; $i++) {
        $running[] = php_start($ini, ['-r', $send]);
    }
    foreach ($running as $p) {
        $results[] = php_finish($p);
    }
}
echo implode("\n", array_count_values($results) ? array_map(fn ($r, $n) => "$n x $r", array_keys(array_count_values($results)), array_count_values($results)) : []), "\n";
echo "delivered: ", count(smtp_received($srv['dir'], 8)), "\n";
$counts = json_decode(file_get_contents($tokens['dir'] . '/requests.json'), true);
echo "issued: {$counts['issued']}, refused: ", json_encode($counts['refused']), "\n";
echo "file holds the valid token: ", var_export(file($tokens['dir'] . '/refresh_tokens', FILE_IGNORE_NEW_LINES)
    === [trim(file_get_contents($file))], true), "\n";
printf("mode %o, files in the directory: %d\n", fileperms($file) & 0777, count(scandir($dir)) - 2);
?>
--EXPECT--
8 x 0 sent
delivered: 8
issued: 8, refused: []
file holds the valid token: true
mode 600, files in the directory: 1
