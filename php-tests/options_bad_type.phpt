--TEST--
smtp_send(): an option value that is an array is a TypeError; a non-array $options is a TypeError; a string option that is not UTF-8 is a ValueError naming the option
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
try {
    smtp_send('to@example.test', 'x', "x\n", ['From' => 'wiki@example.test'], ['host' => ['a', 'b']]);
} catch (Throwable $e) {
    smtp_show_exception($e);
}
try {
    smtp_send('to@example.test', 'x', "x\n", ['From' => 'wiki@example.test'], 'host=localhost');
} catch (Throwable $e) {
    smtp_show_exception($e);
}
try {
    smtp_send('to@example.test', 'x', "x\n", ['From' => 'wiki@example.test'], ['localhost' => "h\xffst"]);
} catch (Throwable $e) {
    smtp_show_exception($e);
}
function smtp_show_exception(Throwable $e): void
{
    printf("%s(%d): %s\n", get_class($e), $e->getCode(), $e->getMessage());
}
?>
--EXPECTF--
TypeError(0): smtp_send(): option "host" must be a string, int or bool, array given
TypeError(0): smtp_send(): Argument #5 ($options) must be of type ?array, string given
ValueError(0): smtp_send(): option "localhost" is not valid UTF-8 (byte 0xFF at offset 1): %s
