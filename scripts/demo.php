<?php
// Sends one mail through PHP's mail() and one through smtp_send(). scripts/demo.sh runs this
// with the extension loaded and smtp.host/smtp.port pointing at a local smtp-sink, and with
// smtp.override_mail=1 so that mail() goes through the extension rather than sendmail.

$ok = true;

$sent = mail(
    'you@example.test',
    'Hello from mail()',
    "This message went through PHP's mail(), handled by the smtp extension.\n"
        . "No sendmail binary was involved.\n",
    "From: Wiki <wiki@example.test>"
);
printf("mail():      %s\n", $sent ? 'true (accepted by the SMTP server)' : 'false');
$ok = $ok && $sent;

try {
    $messageId = smtp_send(
        'you@example.test',
        'Hello from smtp_send()',
        "This message went through smtp_send(), which returns the Message-ID\n"
            . "and throws SmtpException when the server refuses the mail.\n",
        ['From' => 'wiki@example.test']
    );
    printf("smtp_send(): %s\n", $messageId);
} catch (SmtpException $e) {
    printf("smtp_send(): SmtpException: %s\n", $e->getMessage());
    $ok = false;
}

exit($ok ? 0 : 1);
