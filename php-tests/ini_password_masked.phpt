--TEST--
ini: phpinfo() and php --ri smtp show ******** for smtp.password, never the password; ini_get() still reads it
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=1
smtp.username=wiki
smtp.password=TopSecret123
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
// Not INFO_ENVIRONMENT/INFO_VARIABLES: run-tests.php passes the ini settings (password
// included) in the TEST_PHP_EXTRA_ARGS environment variable, which those sections show.
ob_start();
phpinfo(INFO_ALL & ~(INFO_ENVIRONMENT | INFO_VARIABLES));
$all = ob_get_clean();
echo "password anywhere in phpinfo(): ", var_export(str_contains($all, 'TopSecret123'), true), "\n";
$info = smtp_phpinfo();
echo implode("\n", preg_grep('/^(Auth user|Password|smtp\.password|smtp\.username) =>/', explode("\n", $info))), "\n";

ini_set('smtp.password', 'Runtime-Secret-9');
$info = smtp_phpinfo();
echo "after ini_set: ", implode(' | ', preg_grep('/^smtp\.password =>/', explode("\n", $info))), "\n";
echo "new password in phpinfo: ", var_export(str_contains($info, 'Runtime-Secret-9'), true), "\n";
var_dump(ini_get('smtp.password'));

// php --ri smtp, in a child PHP with the same extension and ini settings.
$cmd = escapeshellarg(PHP_BINARY) . ' ' . getenv('TEST_PHP_EXTRA_ARGS') . ' --ri smtp 2>&1';
$ri = shell_exec($cmd);
echo "--ri password lines: ", implode(' | ', preg_grep('/password|Password/', explode("\n", (string) $ri))), "\n";
echo "--ri shows the password: ", var_export(str_contains((string) $ri, 'TopSecret123'), true), "\n";

?>
--EXPECT--
password anywhere in phpinfo(): false
Auth user => wiki
Password => ********
smtp.password => ******** => ********
smtp.username => wiki => wiki
after ini_set: smtp.password => ******** => ********
new password in phpinfo: false
string(16) "Runtime-Secret-9"
--ri password lines: Password => ******** | smtp.password => ******** => ******** | smtp.password_file => no value => no value | smtp.password_env => no value => no value
--ri shows the password: false
