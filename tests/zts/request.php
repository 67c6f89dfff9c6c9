<?php
/* One "request" of a worker thread of tests/zts/host.c ($smtp_thread, $smtp_request set by it):
 * sends ZTS_MAILS mails, each with a Message-ID naming thread, request and mail, to
 * t<thread>@example.test, then writes this thread's smtp_stats() to ZTS_OUT/t<T>.r<R>.json.
 * The first request after the idle wait first looks in the server's transcript whether this
 * thread's earlier connection is closed already: closed while the thread sent nothing. */
$out = getenv('ZTS_OUT');
$mails = (int) getenv('ZTS_MAILS');
$record = ['thread' => $smtp_thread, 'request' => $smtp_request];
if ($smtp_request === (int) getenv('ZTS_IDLE_AT')) {
    $conns = [];
    $closed = [];
    foreach (file(getenv('ZTS_TRANSCRIPT'), FILE_IGNORE_NEW_LINES) as $line) {
        [$conn, $rest] = explode(' ', $line, 2) + [1 => ''];
        if ($rest === "C: RCPT TO:<t{$smtp_thread}@example.test>") {
            $conns[$conn] = true;
        } elseif ($rest === 'CLOSE') {
            $closed[$conn] = true;
        }
    }
    $record['before_idle_connections'] = count($conns);
    $record['closed_while_idle'] = count($conns) > 0 && !array_diff_key($conns, $closed);
}
for ($m = 0; $m < $mails; $m++) {
    smtp_send(
        "t{$smtp_thread}@example.test",
        "thread $smtp_thread request $smtp_request mail $m",
        "Mail $m of request $smtp_request of thread $smtp_thread.\n",
        ['From' => 'zts@example.test', 'Message-ID' => "<t{$smtp_thread}.r{$smtp_request}.m{$m}@zts.test>"]
    );
}
$record['stats'] = smtp_stats();
file_put_contents("$out/t{$smtp_thread}.r{$smtp_request}.json", json_encode($record));
