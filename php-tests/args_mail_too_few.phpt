--TEST--
mail() override: too few arguments is an ArgumentCountError
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
try {
    mail('to@example.test', 'Subject');
} catch (ArgumentCountError $e) {
    printf("%s: %s\n", get_class($e), $e->getMessage());
}
try {
    mail();
} catch (ArgumentCountError $e) {
    printf("%s: %s\n", get_class($e), $e->getMessage());
}
try {
    mail('a@example.test', 's', 'b', '', '', 'extra');
} catch (ArgumentCountError $e) {
    printf("%s: %s\n", get_class($e), $e->getMessage());
}
?>
--EXPECT--
ArgumentCountError: mail() expects at least 3 arguments, 2 given
ArgumentCountError: mail() expects at least 3 arguments, 0 given
ArgumentCountError: mail() expects at most 5 arguments, 6 given
