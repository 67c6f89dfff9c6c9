--TEST--
mail() parity: every header and argument check gives the same outcome, exception class and words with the override off (PHP's own mail() and sendmail) and on (SMTP); what arrives has the same recipients
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.override_mail=0
sendmail_path=/bin/sh {PWD}/inc/fake_sendmail
sendmail_from=wiki@example.test
error_reporting=E_ALL
--FILE--
<?php require __DIR__ . '/inc/mail_parity.inc'; ?>
--EXPECTF--
To in the array: ValueError: The additional headers cannot contain the "To" header
to, lower case: ValueError: The additional headers cannot contain the "To" header
Subject in the array: ValueError: The additional headers cannot contain the "Subject" header
From as an array: TypeError: Header "from" must be of type string, array given
Reply-To as an array: TypeError: Header "reply-to" must be of type string, array given
int value: TypeError: Header "X-A" must be of type array|string, int given
int in a list: TypeError: Header "X-A" must only contain values of type string, int found
named key in a list: TypeError: Header "X-A" must only contain numeric keys, "k" found
numeric name: TypeError: Header name cannot be numeric, 0 given
name with a space: ValueError: Header name "X A" contains invalid characters
name with a colon: ValueError: Header name "X:A" contains invalid characters
CRLF + header: ValueError: Header "X-A" contains CRLF characters that are used as a line separator and are not allowed in the header
LF + header: ValueError: Header "X-A" contains LF character that is not allowed in the header
lone CR: ValueError: Header "X-A" contains CR character that is not allowed in the header
NUL in a value: ValueError: Header "X-A" contains NULL character that is not allowed in the header
CRLF folding: returned true
LF folding: returned true
list of values: returned true
Cc in the array: returned true
string, NUL: ValueError: mail(): Argument #4 ($additional_headers) must not contain any null bytes
string, empty line: mail(): Multiple or malformed newlines found in additional_header | returned false
string, leading space: mail(): Multiple or malformed newlines found in additional_header | returned false
string, trailing CRLF: returned true
string, To header: returned true
string, LF: returned true
string, LF folding: returned true
string, LF LF: mail(): Multiple or malformed newlines found in additional_header | returned false
string, CR CR: mail(): Multiple or malformed newlines found in additional_header | returned false
string, LF CR: mail(): Multiple or malformed newlines found in additional_header | returned false
string, CRLF CR: mail(): Multiple or malformed newlines found in additional_header | returned false
headers as an object: TypeError: mail(): Argument #4 ($additional_headers) must be of type array|string, stdClass given
null headers: mail(): Passing null to parameter #4 ($additional_headers) of type array|string is deprecated | returned true
too few arguments: ArgumentCountError: mail() expects at least 3 arguments, 2 given
NUL in the recipient: ValueError: mail(): Argument #1 ($to) must not contain any null bytes
all the same
envelope: to@example.test, cc@example.test, bcc@example.test
