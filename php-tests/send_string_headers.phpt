--TEST--
smtp_send(): headers as a string block (like mail()) are accepted; Message-ID and Date given by the caller are kept
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

$id = smtp_send('to@example.test', 'String headers', "Body\n",
    "From: Wiki <wiki@example.test>\r\nMessage-ID: <given.1@example.test>\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\nX-Extra: yes\r\n");
var_dump($id);
$r = smtp_received($srv['dir']);
echo count($r), " message(s)\n";
echo explode("\r\n\r\n", $r[0]['eml'])[0], "\n";
echo "Message-ID count: ", substr_count($r[0]['eml'], 'Message-ID:'), ", Date count: ", substr_count($r[0]['eml'], 'Date:'), "\n";
?>
--EXPECT--
string(22) "<given.1@example.test>"
1 message(s)
To: to@example.test
Subject: String headers
From: Wiki <wiki@example.test>
Message-ID: <given.1@example.test>
Date: Mon, 02 Jan 2006 15:04:05 +0000
X-Extra: yes
Message-ID count: 1, Date count: 1
