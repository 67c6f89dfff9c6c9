<?php
// One request of the FPM policy test: what a script can read of the smtp.* settings, and
// whether a send with them goes out (JSON, one line). ?restore: ini_restore() every smtp.*
// setting first (it must not make an administrator's per-request value outlive the request).
if (($_SERVER['QUERY_STRING'] ?? '') === 'restore') {
    foreach (array_keys(ini_get_all('smtp')) as $name) {
        ini_restore($name);
    }
}
$all = var_export(ini_get_all('smtp'), true) . var_export(ini_get_all(), true);
$out = [
    'password' => ini_get('smtp.password'),
    'client_secret' => ini_get('smtp.oauth_client_secret'),
    'max_connections' => ini_get('smtp.max_connections'),
    'max_rate' => ini_get('smtp.max_rate'),
    'port' => ini_get('smtp.port'),
    'all' => $all,
];
try {
    smtp_send('fpm@example.org', 'policy ' . basename(__DIR__), "Body\n", ['From' => 'wiki@example.org']);
    $out['sent'] = true;
} catch (SmtpException $e) {
    $out['sent'] = false;
    $out['error'] = $e->getMessage();
}
echo json_encode($out), "\n";
