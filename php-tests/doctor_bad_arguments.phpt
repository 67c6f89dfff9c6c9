--TEST--
Doctor: bad arguments and settings raise errors that name smtp_diagnose() and its argument, not smtp_send()
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
foreach ([
    'not an array' => 'x',
    'bad port' => ['port' => 0],
    'unknown key' => ['prot' => 25],
] as $what => $options) {
    try {
        smtp_diagnose($options);
        echo "$what: no error?!\n";
    } catch (Throwable $e) {
        printf("%s: %s: %s\n", $what, get_class($e), strtok($e->getMessage(), ';'));
    }
}
?>
--EXPECT--
not an array: TypeError: smtp_diagnose(): Argument #1 ($options) must be of type ?array, string given
bad port: SmtpException: smtp_diagnose(): invalid setting: port 0 is out of range (1-65535)
unknown key: SmtpException: smtp_diagnose(): invalid setting: unknown option "prot"
