--TEST--
smtp_send(): the options array ($wgSMTP shape) overrides the ini settings for that call only
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
// The ini settings point at a port where nothing listens.
ini_set('smtp.host', 'localhost');
ini_set('smtp.port', (string) smtp_free_port());

$id = smtp_send('to@example.test', 'Options', "Hi\n", ['From' => 'wiki@example.test'], [
    'host' => '127.0.0.1',
    'port' => $srv['port'],
    'IDHost' => 'wiki.example.org',
    'localhost' => 'web1.example.org',
    'timeout' => 3,
]);
echo "returned: ", preg_match('/^<[^@<>]+@wiki\.example\.org>$/', $id) ? 'Message-ID @wiki.example.org' : $id, "\n";
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo "EHLO: {$r[0]['helo']}\n";
$hdr = array_column(smtp_headers($r[0]['eml']), 1, 0);
echo "Message-ID header matches: ", var_export($hdr['Message-ID'] === $id, true), "\n";

// Lower-case keys work too; null leaves the ini value in force.
$id = smtp_send('to@example.test', 'Options 2', "Hi\n", ['From' => 'wiki@example.test'], [
    'host' => '127.0.0.1', 'port' => (string) $srv['port'], 'idhost' => 'other.example.org', 'localhost' => null,
]);
$r = smtp_received($srv['dir'], 2);
echo count($r), " message(s)\n";
echo "EHLO: {$r[1]['helo']}\n";
echo "Message-ID domain: ", substr($id, strpos($id, '@')), "\n";

// The ini settings themselves are unchanged: without options the send goes to the dead port.
try {
    smtp_send('to@example.test', 'No options', "Hi\n", ['From' => 'wiki@example.test']);
    echo "sent?!\n";
} catch (SmtpException $e) {
    echo "without options: ", str_contains($e->getMessage(), 'refused') ? 'refused' : $e->getMessage(), "\n";
}
echo count(smtp_received($srv['dir'], 0, 0)), " message(s) in the end\n";
?>
--EXPECT--
returned: Message-ID @wiki.example.org
1 message(s)
EHLO: web1.example.org
Message-ID header matches: true
2 message(s)
EHLO: client.example.test
Message-ID domain: @other.example.org>
without options: refused
2 message(s) in the end
