--TEST--
Pool: 300 pcntl_fork() children beside 60 idle slotted connections and the reaper: every child exits, every mail arrives once, nobody waits for a child's inherited slot
--EXTENSIONS--
smtp
pcntl
posix
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=2
smtp.max_time=10
smtp.max_connections=1
smtp.pool_size=64
smtp.pool_ping_after=60
smtp.pool_idle_timeout=120
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--lifetime', '180']);
ini_set('smtp.port', (string) $srv['port']);

/* One mail on account $a (1..60): each account has one slot (smtp.max_connections=1). */
function send(string $subject, int $a): bool
{
    try {
        return smtp_send('to@example.test', $subject, "Body\n",
            ['From' => 'wiki@example.test'], ['username' => "user$a"]);
    } catch (SmtpException $e) {
        fwrite(STDERR, getmypid() . " $subject: " . $e->getMessage() . "\n");
        return false;
    }
}

$ok = 0;
for ($a = 1; $a <= 60; $a++) {
    $ok += send("parent-0-$a", $a) ? 1 : 0;
}
// 60 idle connections now hold the 60 slots, and the reaper thread looks at them every 50 ms.

$children = [];
$failedParent = [];
for ($i = 1; $i <= 300; $i++) {
    $a = $i % 60 + 1;
    $pid = pcntl_fork();
    if ($pid === -1) {
        echo "fork $i failed\n";
        break;
    }
    if ($pid === 0) {
        $code = 0;
        if ($i % 3 === 0) {
            // Takes the slot the parent's idle connection holds: the parent's reaper gives it up.
            $code = send("child-$i", $a) ? 0 : 1;
        } elseif ($i % 3 === 1) {
            // Lives on with copies of the parent's descriptors, and sends nothing.
            usleep(2500000);
        }
        exit($code);
    }
    $children[$pid] = $i;
    if ($i % 3 === 0) {
        pcntl_waitpid($pid, $status);
        $children[$pid] = ['exit' => pcntl_wifexited($status) ? pcntl_wexitstatus($status) : -1];
        // A new connection needs slot $a again, while older children (asleep) still live.
        if (send("parent-$i", $a)) {
            $ok++;
        } else {
            $failedParent[] = $i;
        }
    }
}

// Every child exits (bounded wait: 60 s; then the stragglers are killed and counted).
$deadline = microtime(true) + 60;
$hung = 0;
foreach ($children as $pid => &$c) {
    if (is_array($c)) {
        continue;
    }
    while (true) {
        $r = pcntl_waitpid($pid, $status, WNOHANG);
        if ($r === $pid) {
            $c = ['exit' => pcntl_wifexited($status) ? pcntl_wexitstatus($status) : -1];
            break;
        }
        if (microtime(true) > $deadline) {
            posix_kill($pid, SIGKILL);
            pcntl_waitpid($pid, $status);
            $c = ['exit' => 'hung'];
            $hung++;
            break;
        }
        usleep(20000);
    }
}
unset($c);
$exits = array_count_values(array_map(fn ($c) => (string) $c['exit'], $children));
ksort($exits);

$want = 60 + 100 + 100;
$got = smtp_received($srv['dir'], $want, 15);
$subjects = [];
foreach ($got as $m) {
    preg_match('/^Subject: (.*)$/m', $m['eml'], $s);
    $subjects[] = trim($s[1]);
}
echo "forks: ", count($children), "\n";
echo "children exited: ", implode(', ', array_map(fn ($k, $v) => "$v with status $k", array_keys($exits), $exits)), "; hung: $hung\n";
echo "parent sends ok: $ok of 160", $failedParent ? " (failed: " . implode(',', $failedParent) . ")" : "", "\n";
echo "mail received: ", count($got), ", distinct: ", count(array_unique($subjects)), ", want $want\n";
?>
--EXPECT--
forks: 300
children exited: 300 with status 0; hung: 0
parent sends ok: 160 of 160
mail received: 260, distinct: 260, want 260
