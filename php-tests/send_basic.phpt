--TEST--
smtp_send(): basic send returns the Message-ID; server gets exact headers, CRLF, body and envelope
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
ini_set('smtp.port', (string) $srv['port']);

$body = "First line\nSecond line with a trailing space \n\tTabbed line\n\nAfter an empty line\n";
$id = smtp_send('bob@example.test', 'Hello there', $body, ['From' => 'Wiki <wiki@example.test>']);
echo "returned: ", preg_match('/^<[!-;=?-~]+@id\.example\.test>$/', $id) ? 'a Message-ID' : var_export($id, true), "\n";

$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
$m = $r[0];
echo "MAIL FROM: <{$m['mail_from']}> ", json_encode($m['mail_params']), "\n";
echo "RCPT TO: ", implode(' ', $m['rcpt_to']), "\n";
echo "EHLO: {$m['helo']}\n";
echo "CRLF line ends only: ", var_export(smtp_crlf_only($m['eml']), true), "\n";
foreach (smtp_headers($m['eml']) as [$name, $value]) {
    echo "$name: $value\n";
}
$hdr = array_column(smtp_headers($m['eml']), 1, 0);
echo "Message-ID header is the returned one: ", var_export($hdr['Message-ID'] === $id, true), "\n";
echo "Date is now: ", var_export(abs(strtotime($hdr['Date']) - time()) < 60, true), "\n";
echo "body byte-exact: ", var_export(
    smtp_body($m['eml']) === "First line\r\nSecond line with a trailing space \r\n\tTabbed line\r\n\r\nAfter an empty line\r\n",
    true
), "\n";
echo "wire data ends with the dot: ", var_export($m['raw'] === $m['eml'] . ".\r\n", true), "\n";
?>
--EXPECTF--
returned: a Message-ID
1 message(s)
MAIL FROM: <wiki@example.test> []
RCPT TO: bob@example.test
EHLO: client.example.test
CRLF line ends only: true
Date: %s, %d %s %d %d:%d:%d +0000
To: bob@example.test
Subject: Hello there
Message-ID: <%s@id.example.test>
From: Wiki <wiki@example.test>
Message-ID header is the returned one: true
Date is now: true
body byte-exact: true
wire data ends with the dot: true
