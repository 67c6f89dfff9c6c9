<?php
// One request of the FPM test: one mail() through the extension (smtp.override_mail comes from
// the pool's php_admin_value), answering with the worker's pid and the pool counters.
$n = $_GET['n'] ?? ($_SERVER['QUERY_STRING'] ?? 'x');
$ok = mail('fpm@example.org', "fpm request $n", "request $n\n", "From: wiki@example.org");
$s = smtp_stats();
echo json_encode(['ok' => $ok, 'pid' => getmypid(), 'opened' => $s['connections_opened'],
    'reused' => $s['connections_reused']]), "\n";
