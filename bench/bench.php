<?php
// One benchmark case in its own process:
//
//   php [flags] bench/bench.php CASE N BUDGET_SECONDS HOST PORT
//
// Sends up to N small messages (one call per message, same From/To/subject/body), stopping
// early once BUDGET_SECONDS have passed, and prints one JSON line on stdout:
//   {"case":..,"sent":..,"failed":..,"seconds":..,"cpu_seconds":..,"latency_ms":{p50,p90,p99,max},
//    "peak":..,"error":..,"stats":..}
// "seconds" covers the send loop only (first connection included; library loading, object
// set-up outside the loop and the final QUIT excluded); "cpu_seconds" is this process's user +
// system CPU time over the same loop (getrusage); "latency_ms" the nearest-rank percentiles of
// the time each call took. Failures are counted, never hidden:
// the first error message is reported.
//
// The extension cases expect the extension loaded and, for ext-mail, smtp.host/smtp.port/
// smtp.override_mail (and smtp.auth/username/password/cafile for a TLS server) set on the
// command line (bench/run.sh does that). Suffixes of the extension cases (-nopool, -nochunk,
// -smtps, -max100) only name the ini flags run.sh adds; the PHP code is that of ext-mail / ext-smtp_send.
//
// Environment (all optional; the defaults are smtp-sink's: no TLS, no AUTH):
//   BENCH_TO       recipient (default sink@example.net)
//   BENCH_USER     SMTP AUTH login; with BENCH_PASS, every case logs in
//   BENCH_PASS     its password
//   BENCH_TLS      "" (none), "starttls" (every case upgrades with STARTTLS), "smtps" (implicit
//                  TLS: the extension and PEAR get ssl://HOST; the others their own switch)
// The PHP mailers verify the server's certificate with PHP's openssl.cafile (run.sh sets it).

declare(strict_types=1);

error_reporting(E_ALL & ~E_DEPRECATED & ~E_STRICT);
ini_set('display_errors', 'stderr');

if ($argc < 6) {
    fwrite(STDERR, "usage: bench.php CASE N BUDGET_SECONDS HOST PORT\n");
    exit(2);
}
[$_, $case, $n, $budget, $host, $port] = $argv;
$n = (int)$n;
$port = (int)$port;
$budgetNs = (int)((float)$budget * 1e9);

const FROM = 'bench@example.org';
define('TO', getenv('BENCH_TO') ?: 'sink@example.net');
$user = (string)getenv('BENCH_USER');
$pass = (string)getenv('BENCH_PASS');
$tls = (string)getenv('BENCH_TLS');
if (!in_array($tls, ['', 'starttls', 'smtps'], true)) {
    fwrite(STDERR, "bench: BENCH_TLS must be empty, starttls or smtps, got '$tls'\n");
    exit(2);
}
$auth = $user !== '';
const BODY = "Hello,\n\nthis is a small benchmark message from php-smtp's bench/.\n\n-- \nbench\n";
$subject = "php-smtp bench: $case";

// MediaWiki's $wgSMTP, as the PEAR cases and smtp_send() get it.
$wgSMTP = [
    'host' => ($tls === 'smtps' ? 'ssl://' : '') . $host,
    'port' => $port,
    'auth' => $auth,
    'IDHost' => 'example.org',
    'localhost' => 'localhost',
];
if ($auth) {
    $wgSMTP['username'] = $user;
    $wgSMTP['password'] = $pass;
}
// What the tuned cases add: TCP_NODELAY on the socket (the 40 ms trap, FACTS.md).
$nodelay = ['socket' => ['tcp_nodelay' => true]];

// Headers as MediaWiki's UserMailer builds them for a plain-text mail (PEAR cases).
function mw_headers(string $subject, int $i): array
{
    return [
        'From' => FROM,
        'Return-Path' => FROM,
        'Date' => date('r'),
        'Message-ID' => '<bench.' . getmypid() . '.' . $i . '.' . bin2hex(random_bytes(4)) . '@example.org>',
        'X-Mailer' => 'MediaWiki mailer',
        'To' => TO,
        'Subject' => $subject,
        'MIME-Version' => '1.0',
        'Content-type' => 'text/plain; charset=UTF-8',
        'Content-transfer-encoding' => '8bit',
    ];
}

$sent = 0;
$failed = 0;
$firstError = null;
$fail = function (string $msg) use (&$failed, &$firstError) {
    $failed++;
    if ($firstError === null) {
        $firstError = $msg;
    }
    if ($failed <= 3) {
        fwrite(STDERR, "bench: failure: $msg\n");
    }
};

// Each case: [set-up (returns state), send one (state, i) -> true or error string, close].
$cases = [];

$cases['ext-mail'] = [
    fn() => null,
    function ($st, int $i) use ($subject) {
        error_clear_last();
        if (@mail(TO, $subject, BODY, 'From: ' . FROM)) {
            return true;
        }
        return 'mail() returned false: ' . (error_get_last()['message'] ?? '(no message)');
    },
    fn($st) => null,
];

$smtpSend = [
    fn() => null,
    function ($st, int $i) use ($subject, $wgSMTP) {
        try {
            smtp_send(TO, $subject, BODY, ['From' => FROM], $wgSMTP);
            return true;
        } catch (Throwable $e) {
            return get_class($e) . ': ' . $e->getMessage();
        }
    },
    fn($st) => null,
];
$cases['ext-smtp_send'] = $smtpSend;

$pearSend = function ($mailer, int $i) use ($subject) {
    $r = $mailer->send(TO, mw_headers($subject, $i), BODY);
    if ($r === true) {
        return true;
    }
    return PEAR::isError($r) ? 'PEAR: ' . $r->getMessage() : 'PEAR: send returned ' . var_export($r, true);
};

$cases['pear-mediawiki'] = [
    function () {
        require_once 'Mail.php';
        return null;
    },
    // MediaWiki 1.39-1.46 UserMailer::sendInternal(): Mail::factory('smtp', $wgSMTP) per mail.
    function ($st, int $i) use ($wgSMTP, $pearSend) {
        $mailer = Mail::factory('smtp', $wgSMTP);
        if (PEAR::isError($mailer)) {
            return 'PEAR: ' . $mailer->getMessage();
        }
        return $pearSend($mailer, $i);
    },
    fn($st) => null,
];

$cases['pear-persist'] = [
    function () use ($wgSMTP) {
        require_once 'Mail.php';
        return Mail::factory('smtp', $wgSMTP + ['persist' => true]);
    },
    $pearSend,
    fn($mailer) => $mailer->disconnect(),
];

// PEAR tuned as far as its options go: one kept connection, PIPELINING (MAIL, RCPT and DATA
// in one write), TCP_NODELAY through Net_SMTP's stream context options.
$cases['pear-tuned'] = [
    function () use ($wgSMTP, $nodelay) {
        require_once 'Mail.php';
        return Mail::factory('smtp', $wgSMTP + ['persist' => true, 'pipelining' => true, 'socket_options' => $nodelay]);
    },
    $pearSend,
    fn($mailer) => $mailer->disconnect(),
];

$phpmailer = function (bool $tuned) use ($host, $port, $subject, $tls, $auth, $user, $pass, $nodelay) {
    return [
        function () use ($host, $port, $subject, $tls, $auth, $user, $pass, $nodelay, $tuned) {
            require_once '/usr/share/php/libphp-phpmailer/autoload.php';
            $m = new PHPMailer\PHPMailer\PHPMailer(true);
            $m->isSMTP();
            $m->Host = $host;
            $m->Port = $port;
            $m->SMTPAuth = $auth;
            if ($auth) {
                $m->Username = $user;
                $m->Password = $pass;
            }
            $m->SMTPSecure = ['' => '', 'starttls' => 'tls', 'smtps' => 'ssl'][$tls];
            $m->SMTPAutoTLS = false;
            $m->SMTPKeepAlive = true;
            if ($tuned) {
                $m->SMTPOptions = $nodelay;
            }
            $m->Hostname = 'example.org';
            $m->Helo = 'localhost';
            $m->CharSet = 'UTF-8';
            $m->setFrom(FROM);
            $m->Subject = $subject;
            $m->Body = BODY;
            return $m;
        },
        function ($m, int $i) {
            try {
                $m->clearAddresses();
                $m->addAddress(TO);
                $m->send();
                return true;
            } catch (Throwable $e) {
                return get_class($e) . ': ' . $e->getMessage();
            }
        },
        fn($m) => $m->smtpClose(),
    ];
};
$cases['phpmailer-keepalive'] = $phpmailer(false);
$cases['phpmailer-nodelay'] = $phpmailer(true);

$symfony = function (bool $tuned) use ($host, $port, $subject, $tls, $auth, $user, $pass, $nodelay) {
    return [
        function () use ($host, $port, $tls, $auth, $user, $pass, $nodelay, $tuned) {
            require_once '/usr/share/php/Symfony/Component/Mailer/autoload.php';
            // smtp:// upgrades with STARTTLS when the server offers it; smtps:// is implicit TLS.
            $cred = $auth ? rawurlencode($user) . ':' . rawurlencode($pass) . '@' : '';
            $scheme = $tls === 'smtps' ? 'smtps' : 'smtp';
            $transport = Symfony\Component\Mailer\Transport::fromDsn("$scheme://$cred$host:$port");
            $transport->setLocalDomain('localhost');
            if ($tuned) {
                $transport->getStream()->setStreamOptions($nodelay);
            }
            return [$transport, new Symfony\Component\Mailer\Mailer($transport)];
        },
        function ($st, int $i) use ($subject) {
            try {
                $email = (new Symfony\Component\Mime\Email())
                    ->from(FROM)
                    ->to(TO)
                    ->subject($subject)
                    ->text(BODY);
                $st[1]->send($email);
                return true;
            } catch (Throwable $e) {
                return get_class($e) . ': ' . $e->getMessage();
            }
        },
        // SmtpTransport::stop() is private in Symfony 5.4: its destructor sends QUIT (below).
        fn($st) => null,
    ];
};
$cases['symfony-mailer'] = $symfony(false);
$cases['symfony-nodelay'] = $symfony(true);

// The limit for a PHP process: one kept connection with TCP_NODELAY; STARTTLS (or implicit TLS)
// and AUTH PLAIN once, at set-up. Then per message one write: with CHUNKING (unless
// $useChunking is false) MAIL FROM + RCPT TO + BDAT <n> LAST + the message, and 3 replies (one
// round trip); without, MAIL FROM + RCPT TO + DATA, 3 replies, then message + "\r\n.\r\n" and
// 1 reply (two round trips).
final class RawClient
{
    /** @var resource */
    private $s;
    private bool $chunking = false;

    public function __construct(string $host, int $port, string $tls, ?array $login, bool $useChunking)
    {
        $ctx = stream_context_create(['socket' => ['tcp_nodelay' => true]]);
        $s = @stream_socket_client("tcp://$host:$port", $errno, $errstr, 10, STREAM_CLIENT_CONNECT, $ctx);
        if ($s === false) {
            throw new RuntimeException("connect: $errstr ($errno)");
        }
        stream_set_timeout($s, 10);
        $this->s = $s;
        if ($tls === 'smtps') {
            $this->handshake();
        }
        $this->expect('220');
        $caps = $this->ehlo();
        if ($tls === 'starttls') {
            if (!isset($caps['STARTTLS'])) {
                throw new RuntimeException('server offers no STARTTLS');
            }
            $this->write("STARTTLS\r\n");
            $this->expect('220');
            $this->handshake();
            $caps = $this->ehlo();
        }
        if ($login !== null) {
            $this->write('AUTH PLAIN ' . base64_encode("\0{$login[0]}\0{$login[1]}") . "\r\n");
            $this->expect('235');
        }
        $this->chunking = $useChunking && isset($caps['CHUNKING']);
    }

    /** TLS 1.2 or 1.3, the server's certificate checked against openssl.cafile. */
    private function handshake(): void
    {
        $methods = STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT | STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT;
        if (stream_socket_enable_crypto($this->s, true, $methods) !== true) {
            throw new RuntimeException('TLS handshake failed');
        }
    }

    /** @return array<string, true> the EHLO keywords */
    private function ehlo(): array
    {
        $this->write("EHLO localhost\r\n");
        $caps = [];
        foreach ($this->reply('250') as $i => $line) {
            $word = strtoupper(explode(' ', substr($line, 4))[0]);
            if ($i > 0 && $word !== '') {
                $caps[$word] = true;
            }
        }
        return $caps;
    }

    private function write(string $data): void
    {
        $len = strlen($data);
        for ($off = 0; $off < $len;) {
            $w = fwrite($this->s, $off ? substr($data, $off) : $data);
            if ($w === false || $w === 0) {
                throw new RuntimeException('write failed');
            }
            $off += $w;
        }
    }

    /** Reads one (possibly multi-line) reply, checks its code, returns its lines. */
    private function reply(string $code): array
    {
        $lines = [];
        do {
            $line = fgets($this->s, 4096);
            if ($line === false) {
                throw new RuntimeException('connection closed or timed out');
            }
            $lines[] = rtrim($line, "\r\n");
        } while (strlen($line) > 3 && $line[3] === '-');
        if (strncmp($line, $code, 3) !== 0) {
            throw new RuntimeException('unexpected reply: ' . rtrim($line));
        }
        return $lines;
    }

    private function expect(string $code): void
    {
        $this->reply($code);
    }

    public function send(string $from, string $to, string $message): void
    {
        if ($this->chunking) {
            $this->write("MAIL FROM:<$from>\r\nRCPT TO:<$to>\r\nBDAT " . strlen($message) . " LAST\r\n" . $message);
            $this->expect('250');
            $this->expect('250');
            $this->expect('250');
            return;
        }
        $this->write("MAIL FROM:<$from>\r\nRCPT TO:<$to>\r\nDATA\r\n");
        $this->expect('250');
        $this->expect('250');
        $this->expect('354');
        $this->write($message . "\r\n.\r\n");
        $this->expect('250');
    }

    public function quit(): void
    {
        $this->write("QUIT\r\n");
        $this->expect('221');
        fclose($this->s);
    }
}

// The connection is made at the first send, inside the timed loop, as the other mailers do.
$raw = fn(bool $useChunking) => [
    fn() => (object)['c' => null],
    function (object $st, int $i) use ($subject, $host, $port, $tls, $auth, $user, $pass, $useChunking) {
        $msg = 'Date: ' . date('r') . "\r\n"
            . 'From: ' . FROM . "\r\n"
            . 'To: ' . TO . "\r\n"
            . "Subject: $subject\r\n"
            . 'Message-ID: <bench.' . getmypid() . ".$i." . bin2hex(random_bytes(4)) . "@example.org>\r\n"
            . "MIME-Version: 1.0\r\n"
            . "Content-Type: text/plain; charset=UTF-8\r\n"
            . "Content-Transfer-Encoding: 8bit\r\n"
            . "\r\n"
            . str_replace("\n", "\r\n", BODY);
        try {
            $st->c ??= new RawClient($host, $port, $tls, $auth ? [$user, $pass] : null, $useChunking);
            $st->c->send(FROM, TO, $msg);
            return true;
        } catch (Throwable $e) {
            $st->c = null;
            return $e->getMessage();
        }
    },
    fn(object $st) => $st->c?->quit(),
];
$cases['raw-pipelined'] = $raw(true);
$cases['raw-pipelined-nochunk'] = $raw(false);

// ext-mail-nopool-nochunk is ext-mail with other ini flags (run.sh sets them).
$code = preg_match('/^(ext-mail|ext-smtp_send)(-nopool|-nochunk|-smtps|-max100)*$/', $case, $m) ? $m[1] : $case;
if (!isset($cases[$code])) {
    fwrite(STDERR, "bench: unknown case '$case'; known: " . implode(', ', array_keys($cases))
        . " (ext-mail and ext-smtp_send also with -nopool, -nochunk, -smtps)\n");
    exit(2);
}
[$setup, $sendOne, $close] = $cases[$code];

try {
    $state = $setup();
} catch (Throwable $e) {
    $state = null;
    $fail('set-up: ' . get_class($e) . ': ' . $e->getMessage());
    $n = 0;
}

$ru0 = getrusage();
$t0 = hrtime(true);
$elapsed = 0;
// What each call took (ns), failed ones included: a reconnect or a stall is what one user
// waits for, and an average hides it.
$lat = [];
for ($i = 0; $i < $n; $i++) {
    $ts = hrtime(true);
    $r = $sendOne($state, $i);
    $lat[] = hrtime(true) - $ts;
    if ($r === true) {
        $sent++;
    } else {
        $fail((string)$r);
    }
    $elapsed = hrtime(true) - $t0;
    if ($elapsed >= $budgetNs) {
        break;
    }
}
$seconds = $elapsed / 1e9;
$ru1 = getrusage();
// Nearest-rank percentiles of the per-call times, in ms.
sort($lat);
$pct = function (float $p) use ($lat): ?float {
    $k = count($lat);
    return $k === 0 ? null : round($lat[max(0, (int)ceil($p * $k) - 1)] / 1e6, 3);
};
$latency = ['p50' => $pct(0.50), 'p90' => $pct(0.90), 'p99' => $pct(0.99), 'max' => $pct(1.0)];
$cpu = fn(array $r, string $k) => $r["ru_{$k}.tv_sec"] + $r["ru_{$k}.tv_usec"] / 1e6;
$cpuSeconds = ($cpu($ru1, 'utime') - $cpu($ru0, 'utime')) + ($cpu($ru1, 'stime') - $cpu($ru0, 'stime'));

try {
    $close($state);
    $state = null; // destructors (Symfony's QUIT) run here
} catch (Throwable $e) {
    fwrite(STDERR, "bench: close: {$e->getMessage()}\n");
}

echo json_encode([
    'case' => $case,
    'sent' => $sent,
    'failed' => $failed,
    'seconds' => round($seconds, 6),
    'cpu_seconds' => round($cpuSeconds, 6),
    'latency_ms' => $latency,
    'peak' => memory_get_peak_usage(true),
    'peak_used' => memory_get_peak_usage(false),
    'error' => $firstError,
    'stats' => function_exists('smtp_stats') ? smtp_stats() : null,
], JSON_UNESCAPED_SLASHES), "\n";
exit($failed > 0 || $sent === 0 ? 1 : 0);
