--TEST--
mail() override: an array as $to is a TypeError, as with PHP's own mail()
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
    mail(['to@example.test'], 'Subject', "Body\n", 'From: wiki@example.test');
} catch (TypeError $e) {
    printf("%s: %s\n", get_class($e), $e->getMessage());
}
?>
--EXPECT--
TypeError: mail(): Argument #1 ($to) must be of type string, array given
