<?php
/**
 * SmtpMailer: the wiki's $wgSMTP mail goes out through the `smtp` PHP extension
 * (smtp_send()) instead of PEAR Mail.
 *
 * MediaWiki 1.35-1.39 let an AlternateUserMailer handler say "sent" (return false) or "not
 * handled" (return true), but not "failed": the documented string return is refused by the
 * HookContainer (UnexpectedValueException "Invalid return from onAlternateUserMailer"), so
 * UserMailer::sendInternal()'s `Status::newFatal( 'php-mail-error', $ret )` branch cannot be
 * reached. The hook that does have an error channel is UserMailerTransformMessage, which runs
 * just before AlternateUserMailer with the finished message: a handler that returns false with
 * $error set makes UserMailer::send() return Status::newFatal( 'php-mail-error', $error ),
 * exactly as a PEAR failure does. So:
 *
 * - When this extension's UserMailerTransformMessage handler is the last one and its
 *   AlternateUserMailer handler is the only one (nothing after it can change or stop the
 *   message), the mail is sent in UserMailerTransformMessage. Failure: a fatal Status with the
 *   extension's message; Special:EmailUser shows it above the form. Success: the
 *   AlternateUserMailer handler then returns false, so MediaWiki does not send it again.
 * - Otherwise (another extension transforms or intercepts mail after us, or the hook
 *   container cannot be inspected), the mail is sent in AlternateUserMailer, and a failure is
 *   thrown as MailNotSentError (an ErrorPageError): an error page, never "Email sent".
 *
 * @license MIT
 */

namespace MediaWiki\Extension\SmtpMailer;

use Config;
use MailAddress;
use MediaWiki\Hook\AlternateUserMailerHook;
use MediaWiki\Hook\UserMailerTransformMessageHook;
use MediaWiki\Logger\LoggerFactory;
use MediaWiki\MediaWikiServices;
use Psr\Log\LoggerInterface;
use Throwable;

class Hooks implements UserMailerTransformMessageHook, AlternateUserMailerHook {
	/**
	 * The $wgSMTP keys smtp_send() understands (matched without regard to case). PEAR-only
	 * keys (debug, persist, pipelining, socket_options, verp, ...) are dropped.
	 */
	private const OPTION_KEYS = [
		'host', 'port', 'auth', 'username', 'password', 'idhost', 'localhost', 'timeout', 'cafile',
	];

	/** @var Config */
	private $config;

	/** @var string|null Message-ID of the mail sent in onUserMailerTransformMessage */
	private static $sentEarly = null;

	/** @var bool[] things already logged in this request (log each once) */
	private static $logged = [];

	/**
	 * @param Config $config MainConfig
	 */
	public function __construct( Config $config ) {
		$this->config = $config;
	}

	/**
	 * @param MailAddress[] $to
	 * @param MailAddress $from
	 * @param string &$subject
	 * @param array &$headers
	 * @param string|array &$body
	 * @param string|bool &$error
	 * @return bool
	 */
	public function onUserMailerTransformMessage(
		$to, $from, &$subject, &$headers, &$body, &$error
	) {
		self::$sentEarly = null;
		$options = $this->options();
		if ( $options === null || !$this->nothingRunsAfterUs() ) {
			return true;
		}
		$failure = $this->deliver(
			$to, $subject, $headers, $body, $options, 'UserMailerTransformMessage'
		);
		if ( $failure !== null ) {
			$error = wfMessage( 'smtpmailer-error', $failure )->text();
			return false;
		}
		self::$sentEarly = self::messageId( $headers );
		return true;
	}

	/**
	 * @param array $headers
	 * @param MailAddress|MailAddress[] $to
	 * @param MailAddress $from
	 * @param string $subject
	 * @param string|array $body
	 * @return bool
	 */
	public function onAlternateUserMailer( $headers, $to, $from, $subject, $body ) {
		if ( self::$sentEarly !== null && self::$sentEarly === self::messageId( $headers ) ) {
			// Sent (successfully) in onUserMailerTransformMessage: tell MediaWiki not to send.
			self::$sentEarly = null;
			return false;
		}
		self::$sentEarly = null;
		$options = $this->options();
		if ( $options === null ) {
			return true;
		}
		$failure = $this->deliver(
			$to, $subject, $headers, $body, $options, 'AlternateUserMailer'
		);
		if ( $failure !== null ) {
			throw new MailNotSentError( $failure );
		}
		return false;
	}

	/**
	 * The smtp_send() options from $wgSMTP, or null when MediaWiki's own path must run: the
	 * `smtp` PHP extension is not loaded (PEAR Mail then sends, as without this extension), or
	 * $wgSMTP is not an array (PHP's mail(), which `smtp.override_mail = 1` can route).
	 *
	 * @return array|null
	 */
	private function options(): ?array {
		$smtp = $this->config->get( 'SMTP' );
		if ( !is_array( $smtp ) ) {
			return null;
		}
		if ( !function_exists( 'smtp_send' ) ) {
			$this->logOnce( 'no-extension', 'warning',
				'The smtp PHP extension is not loaded, so $wgSMTP mail goes through PEAR Mail. ' .
				'Load it in php.ini (extension=smtp) for the web server and the CLI.' );
			return null;
		}
		$options = [];
		$dropped = [];
		foreach ( $smtp as $key => $value ) {
			if ( is_string( $key ) && in_array( strtolower( $key ), self::OPTION_KEYS, true ) ) {
				$options[$key] = $value;
			} else {
				$dropped[] = $key;
			}
		}
		if ( $dropped ) {
			$this->logOnce( 'dropped', 'debug',
				'Ignoring $wgSMTP keys that only PEAR Mail uses: {keys}',
				[ 'keys' => implode( ', ', $dropped ) ] );
		}
		return $options;
	}

	/**
	 * Sends the message as MediaWiki built it. Recipients are exactly $to, as with PEAR Mail.
	 * One recipient is shown in To; several are not shown to each other (To is
	 * "undisclosed-recipients:;", as MediaWiki's mail() path does) and go out in batches of
	 * $wgEnotifMaxRecips, as MediaWiki's PEAR path does.
	 *
	 * @param MailAddress|MailAddress[] $to
	 * @param string $subject Not encoded yet; smtp_send() encodes UTF-8 (RFC 2047)
	 * @param array $headers MediaWiki's headers (no To, no Subject)
	 * @param string|array $body MIME-encoded body (a string; a text/html array only if some
	 *   caller bypassed UserMailer's MIME assembly, then the text part is sent)
	 * @param array $options
	 * @param string $hook The hook sending it (for the log)
	 * @return string|null null when sent, else what failed (the smtp extension's words)
	 */
	private function deliver(
		$to, $subject, array $headers, $body, array $options, string $hook
	): ?string {
		if ( is_array( $body ) ) {
			$body = (string)( $body['text'] ?? '' );
		}
		$recipients = [];
		foreach ( is_array( $to ) ? $to : [ $to ] as $address ) {
			$s = $address instanceof MailAddress ? $address->toString() : (string)$address;
			if ( $s !== '' ) {
				$recipients[] = $s;
			}
		}
		if ( !$recipients ) {
			return 'no recipient';
		}
		// MediaWiki leaves To and Subject to the mailer; drop any a hook may have added.
		foreach ( array_keys( $headers ) as $name ) {
			if ( in_array( strtolower( (string)$name ), [ 'to', 'subject' ], true ) ) {
				unset( $headers[$name] );
			}
		}

		$batches = [];
		if ( count( $recipients ) === 1 ) {
			$batches[] = [ $recipients[0], $headers ];
		} else {
			$size = max( 1, (int)$this->config->get( 'EnotifMaxRecips' ) );
			foreach ( array_chunk( $recipients, $size ) as $chunk ) {
				$batches[] = [ '', $headers + [
					'To' => 'undisclosed-recipients:;',
					'Bcc' => implode( ', ', $chunk ),
				] ];
			}
		}

		$logger = $this->logger();
		$sent = 0;
		foreach ( $batches as [ $toArg, $batchHeaders ] ) {
			try {
				$id = smtp_send( $toArg, (string)$subject, (string)$body, $batchHeaders, $options );
			} catch ( Throwable $e ) {
				// SmtpException (cannot send), ValueError/TypeError (a header smtp_send refuses).
				$reason = preg_replace( '/^smtp_send\(\): /', '', $e->getMessage() );
				$logger->error( 'Mail to {to} not sent: {reason}', [
					'to' => implode( ', ', $recipients ),
					'reason' => $reason,
					'code' => $e->getCode(),
					'batches_already_sent' => $sent,
					'hook' => $hook,
				] );
				return $reason;
			}
			$sent++;
			$logger->debug( 'Sent {id} to {count} recipient(s) in {hook}', [
				'id' => $id,
				'count' => $toArg === '' ? count( $recipients ) : 1,
				'hook' => $hook,
			] );
		}
		return null;
	}

	/**
	 * True when no other code can change or stop the message after our
	 * UserMailerTransformMessage handler: it is the last handler of that hook, and ours is the
	 * only AlternateUserMailer handler. False when that cannot be determined.
	 */
	private function nothingRunsAfterUs(): bool {
		try {
			$hooks = MediaWikiServices::getInstance()->getHookContainer();
			if ( is_callable( [ $hooks, 'getHandlerDescriptions' ] ) ) {
				// MediaWiki 1.41+: one ordered list per hook, "Class::method" strings.
				$transform = $hooks->getHandlerDescriptions( 'UserMailerTransformMessage' );
				$alternate = $hooks->getHandlerDescriptions( 'AlternateUserMailer' );
				$ours = static function ( $d ) {
					return is_string( $d ) && strpos( $d, self::class . '::' ) === 0;
				};
			} elseif ( is_callable( [ $hooks, 'getHandlers' ] )
				&& is_callable( [ $hooks, 'getLegacyHandlers' ] )
			) {
				// MediaWiki 1.35-1.40: legacy ($wgHooks) handlers run first, then the
				// extension.json handler objects in order.
				$transform = $hooks->getHandlers( 'UserMailerTransformMessage' );
				$alternate = array_merge(
					$hooks->getLegacyHandlers( 'AlternateUserMailer' ),
					$hooks->getHandlers( 'AlternateUserMailer' )
				);
				$ours = static function ( $h ) {
					return $h instanceof self
						|| ( is_array( $h ) && ( $h[0] ?? null ) instanceof self );
				};
			} else {
				return false;
			}
		} catch ( Throwable $e ) {
			return false;
		}
		return $transform && $ours( end( $transform ) )
			&& count( $alternate ) === 1 && $ours( reset( $alternate ) );
	}

	/**
	 * @param array $headers
	 * @return string
	 */
	private static function messageId( array $headers ): string {
		foreach ( $headers as $name => $value ) {
			if ( strtolower( (string)$name ) === 'message-id' ) {
				return (string)$value;
			}
		}
		// No Message-ID (a hook removed it): match on the headers as a whole.
		return md5( serialize( $headers ) );
	}

	private function logger(): LoggerInterface {
		return LoggerFactory::getInstance( 'SmtpMailer' );
	}

	/**
	 * @param string $key
	 * @param string $level
	 * @param string $message
	 * @param array $context
	 */
	private function logOnce(
		string $key, string $level, string $message, array $context = []
	): void {
		if ( !isset( self::$logged[$key] ) ) {
			self::$logged[$key] = true;
			$this->logger()->log( $level, $message, $context );
		}
	}
}
