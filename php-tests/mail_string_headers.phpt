--TEST--
mail() override: string headers (CRLF and LF separated, with folding) go over SMTP; returns true
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.override_mail=1
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);

$headers = "From: Wiki <wiki@example.test>\r\nReply-To: replies@example.test\nX-Folded: first part\r\n  second part\r\nCc: cc@example.test\r\n";
var_dump(mail('to@example.test', 'Via mail()', "Body line\n", $headers));
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
$m = $r[0];
echo "MAIL FROM: <{$m['mail_from']}>\n";
echo "RCPT TO: ", implode(' ', $m['rcpt_to']), "\n";
echo "CRLF only: ", var_export(smtp_crlf_only($m['eml']), true), "\n";
echo explode("\r\n\r\n", $m['eml'])[0], "\n";
echo "body: ", json_encode(smtp_body($m['eml'])), "\n";
?>
--EXPECTF--
bool(true)
1 message(s)
MAIL FROM: <wiki@example.test>
RCPT TO: to@example.test cc@example.test
CRLF only: true
Date: %s
To: to@example.test
Subject: Via mail()
Message-ID: <%s@id.example.test>
From: Wiki <wiki@example.test>
Reply-To: replies@example.test
X-Folded: first part
  second part
Cc: cc@example.test
body: "Body line\r\n"
