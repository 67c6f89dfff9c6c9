--TEST--
Doctor: bin/smtp-doctor as a command: one line per step, "fix:" lines, exit status 1 on a failure and 0 when nothing failed; the password only from --password-env
--EXTENSIONS--
smtp
--SKIPIF--
<?php $smtp_skip_needs = ['tls']; require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
--FILE--
<?php
require __DIR__ . '/inc/server.inc';

/**
 * The path of the loaded smtp extension: the extension=... that run-tests.php passes on to the
 * test (TEST_PHP_EXTRA_ARGS), else the shared object this process has mapped.
 */
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

/** Runs bin/smtp-doctor with the given arguments; returns [exit status, stdout, stderr]. */
function doctor(array $args, array $env = []): array
{
    $cmd = array_merge([PHP_BINARY, '-n', '-d', 'extension=' . loaded_extension_path(),
        smtp_test_root() . '/bin/smtp-doctor'], $args);
    $proc = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes,
        null, $env + ['PATH' => (string) getenv('PATH')]);
    fclose($pipes[0]);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    return [proc_close($proc), $out, $err];
}

// 1. Nothing listening: the connect step fails, exit status 1.
$port = smtp_free_port();
[$rc, $out, $err] = doctor(['--host=127.0.0.1', "--port=$port", '--timeout=5', '--from=wiki@example.test']);
echo "exit status: $rc, stderr: ", var_export($err, true), "\n";
echo preg_replace('/^(\s+fix: connection to 127\.0\.0\.1:\d+ refused).*(?:\n {16}.*)*/m', '$1 ...', $out);

// 2. STARTTLS with the test CA, AUTH with the password from the environment: exit status 0.
$certs = smtp_test_certs();
$srv = smtp_test_server(['--starttls', '--cert', "$certs/good.pem", '--key', "$certs/good.key",
    '--auth-user', 'wiki', '--auth-pass', 'env s3cret', '--auth-requires-tls', '--require-auth']);
[$rc, $out, $err] = doctor(['--host=127.0.0.1', "--port={$srv['port']}", "--cafile=$certs/ca.pem",
    '--auth=1', '--username=wiki', '--password-env=DOCTOR_TEST_PASSWORD', '--from=wiki@example.test'],
    ['DOCTOR_TEST_PASSWORD' => 'env s3cret']);
echo "\nexit status: $rc, stderr: ", var_export($err, true), "\n";
echo $out;
echo "password in the output: ", var_export(str_contains($out, 's3cret'), true), "\n";
$cmds = smtp_client_lines(smtp_transcript($srv['dir'], '/CLOSE/'));
echo "commands: ", implode(', ', array_map(fn($c) => strtok($c, ' '), $cmds)), "\n";
echo count(smtp_received($srv['dir'], 0, 0)), " message(s)\n";

// 3. A bad setting is not a report: exit status 2 and the message on stderr (its function name
//    is checked in doctor_bad_arguments.phpt).
[$rc, $out, $err] = doctor(['--host=127.0.0.1', '--port=0']);
echo "\nexit status: $rc, stdout: ", var_export($out, true), "\n";
echo "stderr: $err";
?>
--EXPECTF--
exit status: 1, stderr: ''
[ok  ] settings  127.0.0.1:%d (STARTTLS when offered), no login, timeout 5 s
[ok  ] dns       127.0.0.1 is 127.0.0.1
[FAIL] connect   connection refused
           fix: connection to 127.0.0.1:%d refused ...
[ -  ] greeting  not tried: an earlier step failed
[ -  ] ehlo      not tried: an earlier step failed
[ -  ] tls       not tried: an earlier step failed
[ -  ] extensions not tried: an earlier step failed
[ -  ] auth      not tried: an earlier step failed
[ -  ] sender    not tried: an earlier step failed

See the failed step above; README.md, section Troubleshooting, lists each message.

exit status: 0, stderr: ''
[ok  ] settings  127.0.0.1:%d (STARTTLS when offered), login as wiki, timeout 10 s
[ok  ] dns       127.0.0.1 is 127.0.0.1
[ok  ] connect   connected to 127.0.0.1:%d
[ok  ] greeting  220 localhost ESMTP fault_smtp ready
[ok  ] ehlo      the server offers PIPELINING, 8BITMIME, STARTTLS, SMTPUTF8, SIZE 10485760
[ok  ] tls       encrypted (TLS 1.%s, %s), certificate verified
[ok  ] extensions offered: PIPELINING, 8BITMIME, SIZE 10485760, SMTPUTF8; not offered: CHUNKING, DSN, REQUIRETLS
[ok  ] auth      logged in as wiki
[ok  ] sender    the server accepts mail from <wiki@example.test> (250 2.1.0 Ok)

No problem found.
password in the output: false
commands: EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, RSET, QUIT
0 message(s)

exit status: 2, stdout: ''
stderr: %s(): invalid setting: port 0 is out of range (1-65535)
