--TEST--
Auth: the password in php.ini goes only to the smtp.host in php.ini: a script that points smtp.host elsewhere (per call or with ini_set) gets an SmtpException before any connection, unless it brings its own password
--EXTENSIONS--
smtp
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--INI--
smtp.host=127.0.0.1
smtp.idhost=id.example.test
smtp.localhost=client.example.test
smtp.timeout=5
smtp.auth=PLAIN
smtp.username=wiki
smtp.password=admins s3cret
smtp.pool=0
--FILE--
<?php
require __DIR__ . '/inc/server.inc';
$srv = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'admins s3cret']);
$other = smtp_test_server(['--auth-user', 'wiki', '--auth-pass', 'own']);
ini_set('smtp.port', (string) $srv['port']);

// php.ini's host: the administrator's password is used.
smtp_send('to@example.test', 'Admin host', "Body\n", ['From' => 'wiki@example.test']);
echo count(smtp_received($srv['dir'])), " message(s) at the administrator's server\n";

// Another host per call ("localhost" is not the name php.ini gives): refused before connecting.
foreach (['per call' => fn () => smtp_send('to@example.test', 'Elsewhere', "Body\n",
              ['From' => 'wiki@example.test'], ['host' => 'localhost', 'port' => $other['port']]),
          'ini_set' => function () use ($other) {
              ini_set('smtp.host', 'localhost');
              ini_set('smtp.port', (string) $other['port']);
              try {
                  smtp_send('to@example.test', 'Elsewhere', "Body\n", ['From' => 'wiki@example.test']);
              } finally {
                  ini_restore('smtp.host');
                  ini_restore('smtp.port');
              }
          }] as $how => $send) {
    try {
        $send();
        echo "$how: sent?!\n";
    } catch (SmtpException $e) {
        echo "$how: ", $e->getMessage(), "\n";
        echo "  shows the password: ", var_export(str_contains($e->getMessage(), 's3cret'), true), "\n";
    }
}
echo "connections to the other server: ", substr_count(smtp_transcript($other['dir']), ' OPEN'), "\n";

// With its own password, a script may send wherever it likes.
smtp_send('to@example.test', 'Own password', "Body\n", ['From' => 'wiki@example.test'],
    ['host' => 'localhost', 'port' => $other['port'], 'password' => 'own']);
echo count(smtp_received($other['dir'])), " message(s) at the other server, AUTH: ",
    implode(' ', preg_grep('/^AUTH/', smtp_client_lines(smtp_transcript($other['dir'])))), "\n";
?>
--EXPECT--
1 message(s) at the administrator's server
per call: smtp_send(): invalid setting: the SMTP password comes from the administrator's settings, which send it only to "127.0.0.1" (smtp.host in php.ini), but this call sends to "localhost". Give this host's password with the call ($options['password'] or ini_set('smtp.password', ...)), or set smtp.host in php.ini
  shows the password: false
ini_set: smtp_send(): invalid setting: the SMTP password comes from the administrator's settings, which send it only to "127.0.0.1" (smtp.host in php.ini), but this call sends to "localhost". Give this host's password with the call ($options['password'] or ini_set('smtp.password', ...)), or set smtp.host in php.ini
  shows the password: false
connections to the other server: 0
1 message(s) at the other server, AUTH: AUTH PLAIN AHdpa2kAb3du
