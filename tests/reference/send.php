<?php
/*
 * One batch of tests/reference.rs: calls mail() once per case, in order, and writes one JSON
 * line per case to OUT (what mail() returned and the warnings it raised). Which mail() this is
 * (PHP's own through sendmail, or the extension's) is decided by the -d options of the php
 * command line, not here, so both sides run exactly this code.
 *
 *   php send.php CASES.json OUT.jsonl FIRST [smtp_send]
 *
 * With "smtp_send" the extension's smtp_send() is called with the same to, subject, body and
 * headers instead of mail(); a case with additional_params has no smtp_send() form and is
 * written as skipped.
 *
 * CASES.json: a list of cases, every byte string base64-encoded (see tests/reference/case.rs).
 * A "start" line is written and flushed before each call, so a crash inside mail() leaves the
 * number of the case that caused it as the last line; the harness then starts a new batch at
 * FIRST = that case + 1.
 */

$cases = json_decode(file_get_contents($argv[1]), true, 64, JSON_THROW_ON_ERROR);
$out = fopen($argv[2], 'ab');
$first = (int) $argv[3];
$send = ($argv[4] ?? 'mail') === 'smtp_send';

$warnings = [];
set_error_handler(function (int $no, string $text) use (&$warnings): bool {
    $warnings[] = $text;
    return true;
});

function bytes(?string $b64): ?string
{
    return $b64 === null ? null : base64_decode($b64, true);
}

for ($i = $first; $i < count($cases); $i++) {
    $c = $cases[$i];
    // The tag that lets the harness find this case's mail among all arrivals: first, so that
    // nothing the case writes can end it or fold into it (see tests/reference/README.md).
    $tag = 'X-Harness-Case: ' . $c['id'];
    $h = $c['headers'];
    if ($h === null) {
        $headers = $tag;
    } elseif (isset($h['text'])) {
        $headers = $tag . "\r\n" . bytes($h['text']);
    } else {
        $headers = ['X-Harness-Case' => (string) $c['id']];
        foreach ($h['array'] as $entry) {
            $values = array_map('bytes', $entry['values']);
            $headers[bytes($entry['name'])] = $entry['list'] ? $values : $values[0];
        }
    }
    $args = [bytes($c['to']), bytes($c['subject']), bytes($c['body']), $headers];
    if ($c['params'] !== null) {
        $args[] = bytes($c['params']);
    }
    if ($send && $c['params'] !== null) {
        fwrite($out, json_encode(['case' => $i, 'skipped' => true]) . "\n");
        continue;
    }
    fwrite($out, json_encode(['start' => $i]) . "\n");
    fflush($out);
    // sendmail's complaints go to this stderr (inherited): the marker says whose they are.
    fwrite(STDERR, "=== case $i\n");
    $warnings = [];
    $error = null;
    try {
        $ok = $send ? smtp_send(...$args) !== '' : mail(...$args);
    } catch (Throwable $e) {
        $ok = false;
        $error = get_class($e) . ': ' . $e->getMessage();
    }
    $line = json_encode(
        ['case' => $i, 'ok' => $ok, 'warnings' => $warnings, 'error' => $error],
        JSON_INVALID_UTF8_SUBSTITUTE
    );
    fwrite($out, $line . "\n");
    fflush($out);
}
