--TEST--
smtp_send(): an int/null $to and other wrong argument types are TypeErrors; too few arguments is an ArgumentCountError
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
$calls = [
    fn() => smtp_send(42, 'Subject', "Body\n"),
    fn() => smtp_send(null, 'Subject', "Body\n"),
    fn() => smtp_send('to@example.test', ['Subject'], "Body\n"),
    fn() => smtp_send('to@example.test', 'Subject', new stdClass()),
    fn() => smtp_send('to@example.test', 'Subject', "Body\n", 42),
    fn() => smtp_send('to@example.test', 'Subject', "Body\n", ['From' => 42]),
    fn() => smtp_send('to@example.test', 'Subject'),
];
foreach ($calls as $call) {
    try {
        $call();
        echo "no error?!\n";
    } catch (Error $e) {
        printf("%s: %s\n", get_class($e), $e->getMessage());
    }
}
?>
--EXPECT--
TypeError: smtp_send(): Argument #1 ($to) must be of type array|string, int given
TypeError: smtp_send(): Argument #1 ($to) must be of type array|string, null given
TypeError: smtp_send(): Argument #2 ($subject) must be of type string, array given
TypeError: smtp_send(): Argument #3 ($body) must be of type string, object given
TypeError: smtp_send(): Argument #4 ($headers) must be of type array|string, int given
TypeError: smtp_send(): Header "From" must be of type array|string, int given
ArgumentCountError: smtp_send() expects at least 3 arguments, 2 given
