<?php
// One request of the FPM test: one mail() through the extension (smtp.override_mail comes from
// the pool's php_admin_value), answering with the worker's pid, the pool counters and how long
// mail() took.
$n = $_GET['n'] ?? ($_SERVER['QUERY_STRING'] ?? 'x');
$started = microtime(true);
$ok = mail('fpm@example.org', "fpm request $n", "request $n\n", "From: wiki@example.org");
$took = microtime(true) - $started;
$s = smtp_stats();
echo json_encode(['ok' => $ok, 'pid' => getmypid(), 'opened' => $s['connections_opened'],
    'reused' => $s['connections_reused'], 'took' => round($took, 4)]), "\n";
