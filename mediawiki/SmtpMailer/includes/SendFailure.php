<?php
/**
 * @license MIT
 * @file
 */

namespace MediaWiki\Extension\SmtpMailer;

use Throwable;

/**
 * What became of a message that smtp_send() did not send whole: nobody got it ("failed"), some
 * recipients got it and others did not ("partial"), or for some recipients nobody knows
 * ("unknown": the message was written but the server's final reply never came, so it may have
 * been delivered and must not be sent again blindly). Chooses the message shown to the user
 * and the context logged.
 *
 * Plain PHP with no MediaWiki services, so that its unit tests run without a wiki.
 */
class SendFailure {
	/** Thrown by the smtp extension when the outcome is not known (public array $delivered, $unknown) */
	public const UNKNOWN_CLASS = 'SmtpDeliveryUnknownException';
	/** Thrown by the smtp extension when some recipients got it (public array $delivered, $undelivered) */
	public const PARTIAL_CLASS = 'SmtpPartialDeliveryException';

	public const FAILED = 'failed';
	public const PARTIAL = 'partial';
	public const UNKNOWN = 'unknown';

	/** @var string */
	private $reason;
	/** @var string[] */
	private $delivered;
	/** @var string[] */
	private $undelivered;
	/** @var string[] */
	private $unknown;
	/** @var int */
	private $total;

	/**
	 * @param string $reason What failed, in the smtp extension's words
	 * @param string[] $delivered Recipients the server accepted the message for
	 * @param string[] $undelivered Recipients that did not get it
	 * @param string[] $unknown Recipients for whom nobody knows
	 * @param int|null $total How many recipients the message has (default: all of the above).
	 *   The extension's lists may leave out recipients that it refused along the way.
	 */
	public function __construct(
		string $reason, array $delivered, array $undelivered, array $unknown = [],
		?int $total = null
	) {
		$this->reason = $reason;
		$this->delivered = array_values( $delivered );
		$this->undelivered = array_values( $undelivered );
		$this->unknown = array_values( $unknown );
		$this->total = max(
			$total ?? 0,
			count( $this->delivered ) + count( $this->unknown ),
			count( $this->delivered ) + count( $this->undelivered )
		);
	}

	/**
	 * The outcome of a smtp_send() call that threw, with what the earlier and later calls for
	 * the same message (batches of recipients) did.
	 *
	 * The two exception classes for partial and unknown outcomes are looked up with
	 * class_exists(), so this works with a smtp extension that does not have them yet: its
	 * exceptions then all mean "this call sent nothing".
	 *
	 * @param Throwable $e SmtpException (or one of its subclasses), or the ValueError or
	 *   TypeError of a header smtp_send() refuses
	 * @param string[] $sentBefore Recipients of the earlier calls, which succeeded
	 * @param string[] $batch Recipients of the call that threw
	 * @param string[] $notTried Recipients of the later calls, which were not made
	 * @return self
	 */
	public static function fromThrowable(
		Throwable $e, array $sentBefore, array $batch, array $notTried
	): self {
		$reason = preg_replace( '/^smtp_send\(\): /', '', $e->getMessage() );
		$total = count( $sentBefore ) + count( $batch ) + count( $notTried );
		if ( self::isA( $e, self::UNKNOWN_CLASS ) ) {
			return new self(
				$reason,
				array_merge( $sentBefore, self::listProperty( $e, 'delivered' ) ?? [] ),
				$notTried,
				// Never empty: this exception says that some recipient's outcome is unknown.
				self::listProperty( $e, 'unknown' ) ?: $batch,
				$total
			);
		}
		if ( self::isA( $e, self::PARTIAL_CLASS ) ) {
			return new self(
				$reason,
				array_merge( $sentBefore, self::listProperty( $e, 'delivered' ) ?? [] ),
				array_merge( self::listProperty( $e, 'undelivered' ) ?? $batch, $notTried ),
				[],
				$total
			);
		}
		return new self( $reason, $sentBefore, array_merge( $batch, $notTried ), [], $total );
	}

	/**
	 * @param Throwable $e
	 * @param string $class
	 * @return bool
	 */
	private static function isA( Throwable $e, string $class ): bool {
		return class_exists( $class, false ) && is_a( $e, $class );
	}

	/**
	 * @param Throwable $e
	 * @param string $name
	 * @return string[]|null null when the exception has no such array property
	 */
	private static function listProperty( Throwable $e, string $name ): ?array {
		$value = $e->$name ?? null;
		if ( !is_array( $value ) ) {
			return null;
		}
		return array_values( array_map( 'strval', $value ) );
	}

	/**
	 * @return string One of FAILED, PARTIAL, UNKNOWN
	 */
	public function kind(): string {
		if ( $this->unknown ) {
			return self::UNKNOWN;
		}
		return $this->delivered ? self::PARTIAL : self::FAILED;
	}

	/**
	 * @return string
	 */
	public function reason(): string {
		return $this->reason;
	}

	/**
	 * @return string Key of the message shown to the user; its first parameter is reason()
	 *   (a plaintext parameter), the others are numbers (messageNumbers())
	 */
	public function messageKey(): string {
		switch ( $this->kind() ) {
			case self::UNKNOWN:
				return 'smtpmailer-error-unknown';
			case self::PARTIAL:
				return 'smtpmailer-error-partial';
			default:
				return 'smtpmailer-error';
		}
	}

	/**
	 * @return string Key of the error page title (when the failure is thrown as MailNotSentError)
	 */
	public function titleKey(): string {
		return $this->messageKey() . '-title';
	}

	/**
	 * @return int[] The number parameters of messageKey() after the reason: for "unknown", how
	 *   many recipients have an unknown outcome and how many recipients there are; for
	 *   "partial", how many got it and how many did not (all the others)
	 */
	public function messageNumbers(): array {
		switch ( $this->kind() ) {
			case self::UNKNOWN:
				return [ count( $this->unknown ), $this->total ];
			case self::PARTIAL:
				return [ count( $this->delivered ), $this->total - count( $this->delivered ) ];
			default:
				return [];
		}
	}

	/**
	 * @return array For the log: outcome, reason and the recipients of each kind
	 */
	public function logContext(): array {
		return [
			'outcome' => $this->kind(),
			'reason' => $this->reason,
			'delivered' => implode( ', ', $this->delivered ),
			'undelivered' => implode( ', ', $this->undelivered ),
			'unknown' => implode( ', ', $this->unknown ),
		];
	}

	/**
	 * @return string[]
	 */
	public function delivered(): array {
		return $this->delivered;
	}

	/**
	 * @return string[]
	 */
	public function undelivered(): array {
		return $this->undelivered;
	}

	/**
	 * @return string[]
	 */
	public function unknown(): array {
		return $this->unknown;
	}
}
