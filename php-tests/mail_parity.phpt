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
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server();
ini_set('smtp.port', (string) $srv['port']);
$tmp = smtp_test_tmpdir();
putenv("SMTP_PHPT_SENDMAIL_OUT=$tmp/sendmail.out");

/** One mail() call: what it returned or threw, and every warning or deprecation it raised. */
function outcome(array $args): string
{
    $notes = [];
    set_error_handler(function (int $no, string $msg) use (&$notes) {
        $notes[] = $msg;
        return true;
    });
    try {
        $r = 'returned ' . var_export(mail(...$args), true);
    } catch (Throwable $e) {
        $r = get_class($e) . ': ' . $e->getMessage();
    } finally {
        restore_error_handler();
    }
    return implode(' | ', array_merge($notes, [$r]));
}

$from = 'wiki@example.test';
$cases = [
    'To in the array'          => [['From' => $from, 'To' => 'evil@example.test']],
    'to, lower case'           => [['From' => $from, 'to' => 'evil@example.test']],
    'Subject in the array'     => [['From' => $from, 'Subject' => 'twice']],
    'From as an array'         => [['From' => [$from, 'other@example.test']]],
    'Reply-To as an array'     => [['From' => $from, 'Reply-To' => ['a@example.test']]],
    'int value'                => [['From' => $from, 'X-A' => 1]],
    'int in a list'            => [['From' => $from, 'X-A' => ['ok', 2]]],
    'named key in a list'      => [['From' => $from, 'X-A' => ['k' => 'v']]],
    'numeric name'             => [[0 => 'x']],
    'name with a space'        => [['From' => $from, 'X A' => 'v']],
    'name with a colon'        => [['From' => $from, 'X:A' => 'v']],
    'CRLF + header'            => [['From' => $from, 'X-A' => "a\r\nBcc: evil@example.test"]],
    'LF + header'              => [['From' => $from, 'X-A' => "a\nBcc: evil@example.test"]],
    'lone CR'                  => [['From' => $from, 'X-A' => "a\rb"]],
    'NUL in a value'           => [['From' => $from, 'X-A' => "a\0b"]],
    'CRLF folding'             => [['From' => $from, 'X-A' => "a\r\n b"]],
    'LF folding'               => [['From' => $from, 'X-A' => "a\n\tb"]],
    'list of values'           => [['From' => $from, 'X-A' => ['one', 'two']]],
    'Cc in the array'          => [['From' => $from, 'Cc' => 'cc@example.test']],
    'string, NUL'              => ["From: $from\0"],
    'string, empty line'       => ["From: $from\r\n\r\nX-A: b"],
    'string, leading space'    => [" From: $from"],
    'string, trailing CRLF'    => ["From: $from\r\n"],
    'string, To header'        => ["From: $from\r\nTo: also@example.test"],
    'headers as an object'     => [new stdClass()],
    'null headers'             => [null],
    'too few arguments'        => 'few',
    'NUL in the recipient'     => 'nul-to',
];
$same = true;
foreach ($cases as $name => $headers) {
    $args = match ($headers) {
        'few' => ['to@example.test', 'S'],
        'nul-to' => ["to@example.test\0", 'S', "Body\n", "From: $from"],
        default => ['to@example.test', 'S', "Body\n", $headers[0]],
    };
    ini_set('smtp.override_mail', '0');
    $php = outcome($args);
    ini_set('smtp.override_mail', '1');
    $smtp = outcome($args);
    if ($php !== $smtp) {
        $same = false;
        echo "DIFFERENT: $name\n  PHP:  $php\n  SMTP: $smtp\n";
    } else {
        echo "$name: $php\n";
    }
}
echo $same ? "all the same\n" : "differences found\n";

// Recipients: PHP's mail() lets sendmail -t read To/Cc/Bcc from a header string; so do we.
ini_set('smtp.override_mail', '1');
mail('to@example.test', 'S', "Body\n", "From: $from\r\nCc: cc@example.test\r\nBcc: bcc@example.test");
$last = array_slice(smtp_received($srv['dir'], 1), -1)[0];
echo "envelope: ", implode(', ', $last['rcpt_to']), "\n";
?>
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
headers as an object: TypeError: mail(): Argument #4 ($additional_headers) must be of type array|string, stdClass given
null headers: mail(): Passing null to parameter #4 ($additional_headers) of type array|string is deprecated | returned true
too few arguments: ArgumentCountError: mail() expects at least 3 arguments, 2 given
NUL in the recipient: ValueError: mail(): Argument #1 ($to) must not contain any null bytes
all the same
envelope: to@example.test, cc@example.test, bcc@example.test
