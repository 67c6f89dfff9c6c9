<?php
/**
 * SmtpMailer: the wiki's $wgSMTP mail goes out through the `smtp` PHP extension
 * (smtp_send()) instead of PEAR Mail.
 *
 * MediaWiki 1.39 and later let an AlternateUserMailer handler say "sent" (return false) or "not
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
 * Both hooks are handled by one object (one HookHandlers entry), which is how the second hook
 * knows what the first one did.
 *
 * @license MIT
 * @file
 */

namespace MediaWiki\Extension\SmtpMailer;

use MediaWiki\Hook\AlternateUserMailerHook;
use MediaWiki\Hook\UserMailerTransformMessageHook;
use MediaWiki\HookContainer\HookContainer;
use MediaWiki\Logger\LoggerFactory;
use Psr\Log\LoggerInterface;
use Throwable;

class Hooks implements UserMailerTransformMessageHook, AlternateUserMailerHook {
	/** @var \Config */
	private $config;

	/** @var HookContainer */
	private $hookContainer;

	/** @var LoggerInterface */
	private $logger;

	/** @var string|null Message-ID of the mail sent in onUserMailerTransformMessage */
	private $sentEarly = null;

	/** @var bool[] things already logged by this handler (log each once) */
	private $logged = [];

	/**
	 * @param \Config $config MainConfig. Not type-hinted: the interface is the global Config up
	 *   to MediaWiki 1.40 and MediaWiki\Config\Config from 1.41, where the global name is a
	 *   deprecated alias
	 * @param HookContainer $hookContainer To see which handlers run after ours
	 * @param LoggerInterface|null $logger Default: the SmtpMailer log group
	 */
	public function __construct(
		$config, HookContainer $hookContainer, ?LoggerInterface $logger = null
	) {
		$this->config = $config;
		$this->hookContainer = $hookContainer;
		$this->logger = $logger ?? LoggerFactory::getInstance( 'SmtpMailer' );
	}

	/**
	 * @inheritDoc
	 *
	 * On failure $error is a Message (UserMailer only tests it for truth and passes it on as
	 * the parameter of 'php-mail-error'), so that the server's text is a plaintext parameter
	 * and never parsed as wikitext.
	 */
	public function onUserMailerTransformMessage(
		$to, $from, &$subject, &$headers, &$body, &$error
	) {
		$this->sentEarly = null;
		$options = $this->options();
		if ( $options === null || !$this->nothingRunsAfterUs() ) {
			return true;
		}
		$failure = $this->deliver(
			$to, $subject, $headers, $body, $options, 'UserMailerTransformMessage'
		);
		if ( $failure !== null ) {
			$error = $this->message( $failure );
			return false;
		}
		$this->sentEarly = $this->mapper()->messageId( $headers );
		return true;
	}

	/**
	 * @inheritDoc
	 */
	public function onAlternateUserMailer( $headers, $to, $from, $subject, $body ) {
		$sentEarly = $this->sentEarly;
		$this->sentEarly = null;
		if ( $sentEarly !== null && $sentEarly === $this->mapper()->messageId( $headers ) ) {
			// Sent (successfully) in onUserMailerTransformMessage: tell MediaWiki not to send.
			return false;
		}
		$options = $this->options();
		if ( $options === null ) {
			return true;
		}
		$failure = $this->deliver(
			$to, $subject, $headers, $body, $options, 'AlternateUserMailer'
		);
		if ( $failure !== null ) {
			throw new MailNotSentError( $this->message( $failure ), $failure->titleKey() );
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
		[ $options, $dropped ] = $this->mapper()->options( $smtp );
		if ( $dropped ) {
			$this->logOnce( 'dropped', 'debug',
				'Ignoring $wgSMTP keys that only PEAR Mail uses: {keys}',
				[ 'keys' => implode( ', ', $dropped ) ] );
		}
		return $options;
	}

	/**
	 * Sends the message as MediaWiki built it, to exactly the recipients in $to (as PEAR Mail
	 * does), in the batches MailMapper::batches() makes. Stops at the first batch that fails,
	 * as MediaWiki's PEAR path does.
	 *
	 * @param \MailAddress|\MailAddress[] $to
	 * @param string $subject Not encoded yet; smtp_send() encodes UTF-8 (RFC 2047)
	 * @param array $headers MediaWiki's headers (no To, no Subject)
	 * @param string|array $body MIME-encoded body
	 * @param array $options
	 * @param string $hook The hook sending it (for the log)
	 * @return SendFailure|null null when sent to everyone
	 */
	private function deliver(
		$to, $subject, array $headers, $body, array $options, string $hook
	): ?SendFailure {
		$mapper = $this->mapper();
		$recipients = $mapper->recipients( $to );
		if ( !$recipients ) {
			return new SendFailure( 'no recipient', [], [] );
		}
		$batches = $mapper->batches( $recipients, $headers );
		$body = $mapper->body( $body );

		$sent = [];
		foreach ( $batches as $i => [ $toArg, $batchHeaders, $batchRecipients ] ) {
			try {
				$id = smtp_send( $toArg, (string)$subject, $body, $batchHeaders, $options );
			} catch ( Throwable $e ) {
				// SmtpException (and its subclasses for partial and unknown outcomes), or the
				// ValueError/TypeError of a header smtp_send refuses.
				$notTried = array_merge( [], ...array_column( array_slice( $batches, $i + 1 ), 2 ) );
				$failure = SendFailure::fromThrowable( $e, $sent, $batchRecipients, $notTried );
				$this->logFailure( $failure, $recipients, $e, $i, $hook );
				return $failure;
			}
			$sent = array_merge( $sent, $batchRecipients );
			$this->logger->debug( 'Sent {id} to {count} recipient(s) in {hook}', [
				'id' => $id,
				'count' => count( $batchRecipients ),
				'hook' => $hook,
			] );
		}
		return null;
	}

	/**
	 * @param SendFailure $failure
	 * @param string[] $recipients
	 * @param Throwable $e
	 * @param int $batchesSent
	 * @param string $hook
	 */
	private function logFailure(
		SendFailure $failure, array $recipients, Throwable $e, int $batchesSent, string $hook
	): void {
		$context = $failure->logContext() + [
			'to' => implode( ', ', $recipients ),
			'code' => $e->getCode(),
			'exception_class' => get_class( $e ),
			'batches_already_sent' => $batchesSent,
			'hook' => $hook,
		];
		switch ( $failure->kind() ) {
			case SendFailure::UNKNOWN:
				$this->logger->error(
					'Mail to {to}: delivery to {unknown} not confirmed (it may have arrived), ' .
					'so it is not sent again: {reason}', $context );
				break;
			case SendFailure::PARTIAL:
				$this->logger->error(
					'Mail to {to} delivered to {delivered} but not to {undelivered}: {reason}',
					$context );
				break;
			default:
				$this->logger->error( 'Mail to {to} not sent: {reason}', $context );
		}
	}

	/**
	 * The text shown to the user: the server's words as a plaintext parameter (escaped for
	 * HTML, never parsed as wikitext), then the recipient counts.
	 *
	 * @param SendFailure $failure
	 * @return \Message (MediaWiki\Message\Message from 1.42)
	 */
	private function message( SendFailure $failure ) {
		return wfMessage( $failure->messageKey() )
			->plaintextParams( $failure->reason() )
			->numParams( ...$failure->messageNumbers() );
	}

	private function mapper(): MailMapper {
		return new MailMapper( (int)$this->config->get( 'EnotifMaxRecips' ) );
	}

	/**
	 * True when no other code can change or stop the message after our
	 * UserMailerTransformMessage handler: it is the last handler of that hook, and ours is the
	 * only AlternateUserMailer handler. False when that cannot be determined.
	 *
	 * @return bool
	 */
	private function nothingRunsAfterUs(): bool {
		$hooks = $this->hookContainer;
		try {
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
				// MediaWiki 1.39-1.40: legacy ($wgHooks) handlers run first, then the
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
	 * @param string $key
	 * @param string $level
	 * @param string $message
	 * @param array $context
	 */
	private function logOnce(
		string $key, string $level, string $message, array $context = []
	): void {
		if ( !isset( $this->logged[$key] ) ) {
			$this->logged[$key] = true;
			$this->logger->log( $level, $message, $context );
		}
	}
}
