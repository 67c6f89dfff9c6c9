--TEST--
Policy: every smtp.* setting against the README's table: which ones a script may change per call ($options) and with ini_set(), and that the administrator's secrets read back as empty (ini_get, ini_get_all, phpinfo)
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=PLAIN
smtp.username=wiki
smtp.password=Admin-Pass-7731
smtp.oauth_client_secret=Client-Secret-5519
smtp.max_connections=2
smtp.pool=0
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
// name => [per call, ini_set()]: 'yes', 'admin' (refused: php.ini / php_admin_value only) or
// 'no' (not a per-call option: ini_set() or php.ini). The README's security table, as data.
$table = [
    'host' => ['yes', 'yes'], 'port' => ['yes', 'yes'], 'auth' => ['yes', 'yes'],
    'username' => ['yes', 'yes'], 'password' => ['yes', 'yes'], 'starttls' => ['yes', 'yes'],
    'idhost' => ['yes', 'yes'], 'localhost' => ['yes', 'yes'], 'timeout' => ['yes', 'yes'],
    'max_time' => ['yes', 'yes'], 'debug' => ['yes', 'yes'],
    'dsn_notify' => ['yes', 'yes'], 'dsn_ret' => ['yes', 'yes'], 'require_tls' => ['yes', 'yes'],
    'chunking' => ['no', 'yes'], 'override_mail' => ['no', 'yes'], 'pool' => ['no', 'yes'],
    'pool_ping_after' => ['no', 'yes'], 'pool_idle_timeout' => ['no', 'yes'],
    'pool_max_messages' => ['no', 'yes'],
    'max_connections' => ['admin', 'admin'], 'max_rate' => ['admin', 'admin'],
    'cafile' => ['admin', 'admin'],
    'verify_peer' => ['admin', 'admin'], 'password_file' => ['admin', 'admin'],
    'password_env' => ['admin', 'admin'], 'oauth_provider' => ['admin', 'admin'],
    'oauth_tenant' => ['admin', 'admin'], 'oauth_token_url' => ['admin', 'admin'],
    'oauth_client_id' => ['admin', 'admin'], 'oauth_client_secret' => ['admin', 'admin'],
    'oauth_client_secret_file' => ['admin', 'admin'], 'oauth_client_secret_env' => ['admin', 'admin'],
    'oauth_scope' => ['admin', 'admin'], 'oauth_key_file' => ['admin', 'admin'],
    'oauth_refresh_token_file' => ['admin', 'admin'],
    // Settings of the pool's own branch: php.ini only, when they exist.
    'slot_dir' => ['admin', 'admin'], 'pool_size' => ['admin', 'admin'],
];
$registered = array_map(fn ($k) => substr($k, 5), array_keys(ini_get_all('smtp')));
$missing = array_diff($registered, array_keys($table));
echo "settings not in the table: ", $missing ? implode(', ', $missing) : 'none', "\n";

$bad = [];
foreach ($registered as $name) {
    [$call, $set] = $table[$name] ?? ['?', '?'];
    // Per call: a refused key is refused before anything else happens (no server here).
    if ($call !== 'yes') {
        try {
            smtp_send('to@example.test', 's', "b\n", ['From' => 'wiki@example.test'], [$name => '1']);
            $got = 'accepted';
        } catch (SmtpException $e) {
            $got = str_contains($e->getMessage(), "option \"$name\" can only be set by the administrator")
                ? 'admin' : (str_contains($e->getMessage(), "unknown option \"$name\"") ? 'no' : $e->getMessage());
        }
        if ($got !== $call) {
            $bad[] = "$name per call: expected $call, got $got";
        }
    }
    // ini_set(): PHP refuses a PHP_INI_SYSTEM entry (false) and the value stays.
    $before = ini_get("smtp.$name");
    $old = ini_set("smtp.$name", '0');
    $got = $old === false ? 'admin' : 'yes';
    if ($got === 'admin' && ini_get("smtp.$name") !== $before) {
        $got = 'refused but changed';
    }
    ini_restore("smtp.$name");
    if ($got !== $set) {
        $bad[] = "$name ini_set(): expected $set, got $got";
    }
}
echo $bad ? implode("\n", $bad) : 'every cell as in the table', "\n";
var_dump(ini_get('smtp.max_connections'));

// The administrator's secrets cannot be read back.
$secrets = ['Admin-Pass-7731', 'Client-Secret-5519'];
$shows = fn (string $s) => array_filter($secrets, fn ($x) => str_contains($s, $x)) ? 'SHOWN' : 'hidden';
var_dump(ini_get('smtp.password'), ini_get('smtp.oauth_client_secret'));
echo "ini_get_all('smtp'): ", $shows(var_export(ini_get_all('smtp'), true)), "\n";
echo "ini_get_all(): ", $shows(var_export(ini_get_all(), true)), "\n";
echo "ini_get_all('smtp', false): ", $shows(var_export(ini_get_all('smtp', false), true)), "\n";
ob_start();
phpinfo(INFO_ALL & ~(INFO_ENVIRONMENT | INFO_VARIABLES));
$info = ob_get_clean();
echo "phpinfo(): ", $shows($info), "\n";
echo implode("\n", preg_grep('/^(Password|smtp\.password|smtp\.oauth_client_secret) =>/', explode("\n", smtp_phpinfo()))), "\n";
// ini_restore() and ini_set() of the setting itself do not bring the secret back.
ini_restore('smtp.password');
var_dump(ini_get('smtp.password'));
var_dump(ini_set('smtp.password', 'mine'), ini_get('smtp.password'));
ini_restore('smtp.password');
var_dump(ini_get('smtp.password'));
?>
--EXPECT--
settings not in the table: none
every cell as in the table
string(1) "2"
string(0) ""
string(0) ""
ini_get_all('smtp'): hidden
ini_get_all(): hidden
ini_get_all('smtp', false): hidden
phpinfo(): hidden
Password => ********
smtp.oauth_client_secret => ******** => ********
smtp.password => ******** => ********
string(0) ""
string(0) ""
string(4) "mine"
string(0) ""
