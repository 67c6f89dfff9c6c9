<?php
/**
 * Declarations of the `smtp` PHP extension (php-smtp) for IDEs and static analysis (PHPStan
 * `scanFiles`, Psalm `<stubs>`, PhpStorm). The extension defines all of this itself: never
 * include this file in code that runs.
 *
 * Native types are exactly those the extension declares, as Reflection reports them
 * (php-tests/stubs_reflection.phpt checks that, so this file cannot drift); the doc comments
 * say more where PHP's types cannot.
 */

/**
 * Sends one message over SMTP and returns its Message-ID.
 *
 * The connection comes from this PHP process's pool (`smtp.pool`): kept open and reused
 * between calls and requests. Settings come from the `smtp.*` php.ini entries; `$options`
 * overrides them for this call.
 *
 * @param string|string[] $to Recipients: one address or a comma-separated list as for mail(),
 *   or an array of addresses. Each may have a display name ("Ann <ann@example.org>").
 *   Addresses are UTF-8: a Unicode domain is sent as its A-label (xn--); a UTF-8 part before
 *   the @ needs a server with SMTPUTF8 (RFC 6531), else SmtpException before anything is sent.
 * @param string $subject UTF-8; encoded as RFC 2047 when it is not plain ASCII.
 *   (An int or float is taken as its string form.)
 * @param string $body The message body (line endings are sent as CRLF).
 * @param string|array<string, string|string[]>|null $headers More headers, as mail() takes
 *   them: a block of "Name: value" lines, or ['Name' => 'value' or ['value', ...]]. The
 *   addresses in To, Cc and Bcc headers are recipients too, and Bcc is not sent. A header name
 *   or value that could inject headers (CR/LF outside folding, NUL) is a ValueError.
 * @param array<string, string|int|float|bool|null>|null $options Per-call settings, keys as in
 *   MediaWiki's $wgSMTP and matched without regard to case: host (ssl:// or tls:// for implicit
 *   TLS), port, auth (true, false, "PLAIN", "LOGIN", "XOAUTH2"), username, password, IDHost
 *   (domain of the Message-ID), localhost (the EHLO name), timeout (seconds for each step),
 *   max_time (seconds for the whole call), starttls, debug, dsn_notify, dsn_ret and require_tls
 *   (true: only over verified TLS to a server that offers REQUIRETLS, RFC 8689), as the
 *   smtp.* ini settings of the same names; and dsn, an array asking for delivery status
 *   notifications (RFC 3461) when the server offers DSN: ['notify' => 'never' or any of
 *   'success', 'failure', 'delay' (a comma-separated string or an array), 'ret' => 'full' or
 *   'hdrs', 'envid' => printable ASCII (at most 100 characters; bounces carry it as
 *   Original-Envelope-Id), 'required' => true to fail unsent when the server lacks DSN].
 *   An unknown key, or one only php.ini may set (cafile, verify_peer,
 *   password_file, password_env), is an SmtpException ("invalid setting").
 * @return string The Message-ID header of the message sent, with its angle brackets.
 * @throws SmtpException When the message was not sent, or a setting is invalid: what failed,
 *   the server's own reply and what to do. Its code is the SMTP reply code (0 when the server
 *   said nothing).
 * @throws SmtpDeliveryUnknownException When the whole message was written and no final reply
 *   came: it may have been delivered. Never resend it blindly.
 * @throws SmtpPartialDeliveryException When some recipients got it and the others did not.
 * @throws TypeError When an argument, header or option has the wrong type.
 * @throws ValueError When a header name or value is invalid.
 */
function smtp_send(
	array|string $to,
	string $subject,
	string $body,
	array|string|null $headers = null,
	?array $options = null
): string {
}

/**
 * The pool's counters for this worker process (since it started).
 *
 * messages_sent: sent to every recipient; failures: not sent; unknown: written, but no final
 * reply came (SmtpDeliveryUnknownException); partial: sent to some recipients only;
 * last_server: "host:port" of the server that took the last message (one of smtp.host's
 * failover list), null before the first.
 *
 * @return array{connections_opened: int, connections_reused: int, retries: int, messages_sent: int, failures: int, unknown: int, partial: int, last_server: string|null}
 */
function smtp_stats(): array {
}

/**
 * Checks the settings step by step without sending mail: DNS, connect, greeting, EHLO, TLS,
 * AUTH, then MAIL FROM and RCPT TO with $options['from'] (default: the sendmail_from ini
 * setting) and RSET. On the command line (bin/smtp-doctor) $options may also name cafile,
 * verify_peer, password_file and password_env; in a web request only php.ini may. Each step says what it found; a failed step says what to fix, and the steps after it
 * are skipped.
 *
 * @param array<string, string|int|float|bool|null>|null $options As for smtp_send(), plus
 *   "from": the sender address to try.
 * @return array{ok: bool, steps: list<array{step: 'settings'|'dns'|'connect'|'greeting'|'ehlo'|'tls'|'token'|'auth'|'sender', status: 'ok'|'warning'|'failed'|'skipped', detail: string, fix: string|null}>}
 *   ok is false when a step failed.
 * @throws SmtpException When the settings themselves are invalid.
 * @throws TypeError When $options or one of its values has the wrong type.
 */
function smtp_diagnose(?array $options = null): array {
}

/**
 * Signs a mailbox in once for smtp.oauth_provider = microsoft-delegated (device code: prints the
 * URL and the code, then waits for the sign-in) or google-user (prints the URL to open; the
 * browser comes back to 127.0.0.1), and writes the refresh token to
 * smtp.oauth_refresh_token_file (mode 0600 for a new file). Command line only; bin/smtp-doctor
 * oauth-login calls it.
 *
 * @param array<string, string|int|null>|null $options As for smtp_diagnose() (the oauth_*
 *   settings may be named), plus "loopback_port", "auth_url" and "wait" (seconds, default 300).
 * @return string The file written.
 * @throws SmtpException When the sign-in fails or the settings are invalid.
 * @throws TypeError Outside the command line, or when $options has the wrong type.
 */
function smtp_oauth_login(?array $options = null): string {
}

/**
 * Thrown by smtp_send() when the message was not sent: its message says what failed, quotes the
 * server's reply and says what to do; its code is the SMTP reply code (0 when the server said
 * nothing). The message was not accepted for any recipient, unless it is one of the two
 * subclasses below.
 */
class SmtpException extends Exception {
}

/**
 * The whole message was written but the server's final reply never came (the connection broke
 * or the time ran out after the end of data): the message may have been delivered. Do not send
 * it again blindly, or recipients may get it twice.
 */
class SmtpDeliveryUnknownException extends SmtpException {
	/**
	 * @var list<string> Recipients the server had already accepted the message for (an earlier
	 *   transaction of the same call).
	 */
	public $delivered;

	/**
	 * @var list<string> Recipients for whom it is not known whether the message was accepted.
	 */
	public $unknown;

	/**
	 * @var list<string> Recipients it was certainly not sent to (not tried yet when it happened).
	 */
	public $undelivered;
}

/**
 * Some recipients got the message (an earlier transaction of the same call, when the server
 * takes fewer recipients per message than given), the others did not. Resend only to those in
 * $undelivered.
 */
class SmtpPartialDeliveryException extends SmtpException {
	/**
	 * @var list<string> Recipients the server accepted the message for.
	 */
	public $delivered;

	/**
	 * @var list<string> Recipients it was not delivered to (the message says why).
	 */
	public $undelivered;
}
