<?php
/**
 * @license MIT
 * @file
 */

namespace MediaWiki\Extension\SmtpMailer;

/**
 * Maps what UserMailer hands its hooks onto smtp_send() calls: which $wgSMTP keys go to the
 * extension, who the recipients are, which headers are sent, and how recipients are batched.
 *
 * Plain PHP with no MediaWiki services, so that its unit tests run without a wiki.
 */
class MailMapper {
	/**
	 * The $wgSMTP keys smtp_send() takes per call (matched without regard to case). PEAR-only
	 * keys (debug, persist, pipelining, socket_options, verp, ...) are dropped, and so are the
	 * settings only php.ini may set (cafile, verify_peer, password_file, ...): smtp_send()
	 * refuses them from a script.
	 */
	public const OPTION_KEYS = [
		'host', 'port', 'auth', 'username', 'password', 'idhost', 'localhost', 'timeout',
		'max_time', 'starttls',
	];

	/** @var int Recipients per message when there are several ($wgEnotifMaxRecips) */
	private $maxRecipients;

	/**
	 * @param int $maxRecipients $wgEnotifMaxRecips; values below 1 count as 1
	 */
	public function __construct( int $maxRecipients ) {
		$this->maxRecipients = max( 1, $maxRecipients );
	}

	/**
	 * Splits $wgSMTP into the options smtp_send() takes and the keys it ignores.
	 *
	 * @param array $smtp $wgSMTP
	 * @return array [ array $options, array $droppedKeys ], both in $wgSMTP's order
	 */
	public function options( array $smtp ): array {
		$options = [];
		$dropped = [];
		foreach ( $smtp as $key => $value ) {
			if ( is_string( $key ) && in_array( strtolower( $key ), self::OPTION_KEYS, true ) ) {
				$options[$key] = $value;
			} else {
				$dropped[] = $key;
			}
		}
		return [ $options, $dropped ];
	}

	/**
	 * The recipients as header strings ("Name <address>"), in order, without empty ones.
	 *
	 * @param \MailAddress|\MailAddress[]|string|string[] $to A MailAddress becomes its
	 *   toString() through __toString(), the same in every MediaWiki version
	 * @return string[]
	 */
	public function recipients( $to ): array {
		$recipients = [];
		foreach ( is_array( $to ) ? $to : [ $to ] as $address ) {
			$s = (string)$address;
			if ( $s !== '' ) {
				$recipients[] = $s;
			}
		}
		return $recipients;
	}

	/**
	 * The message body to send. UserMailer hands over a MIME-encoded string; a text/html array
	 * only comes from a caller that bypassed UserMailer's MIME assembly, and then the text part
	 * is sent.
	 *
	 * @param string|array $body
	 * @return string
	 */
	public function body( $body ): string {
		if ( is_array( $body ) ) {
			return (string)( $body['text'] ?? '' );
		}
		return (string)$body;
	}

	/**
	 * The smtp_send() calls for one message: one call for one recipient, shown in To. Several
	 * recipients are not shown to each other (To: undisclosed-recipients:;, as MediaWiki's
	 * mail() path does) and go out in batches of $wgEnotifMaxRecips, as MediaWiki's PEAR path
	 * does. To and Subject headers that a hook may have added are dropped: smtp_send() writes
	 * them from its own arguments.
	 *
	 * @param string[] $recipients From recipients(), not empty
	 * @param array $headers MediaWiki's headers (name => value)
	 * @return array[] Each [ string $to, array $headers, string[] $recipients ]: smtp_send()'s
	 *   first and fourth arguments, and who that call sends to
	 */
	public function batches( array $recipients, array $headers ): array {
		foreach ( array_keys( $headers ) as $name ) {
			if ( in_array( strtolower( (string)$name ), [ 'to', 'subject' ], true ) ) {
				unset( $headers[$name] );
			}
		}
		if ( count( $recipients ) === 1 ) {
			return [ [ $recipients[0], $headers, $recipients ] ];
		}
		$batches = [];
		foreach ( array_chunk( $recipients, $this->maxRecipients ) as $chunk ) {
			$batches[] = [ '', $headers + [
				'To' => 'undisclosed-recipients:;',
				'Bcc' => implode( ', ', $chunk ),
			], $chunk ];
		}
		return $batches;
	}

	/**
	 * What identifies one message between the two hooks: its Message-ID, or (when a hook
	 * removed that) a hash of all its headers.
	 *
	 * @param array $headers
	 * @return string
	 */
	public function messageId( array $headers ): string {
		foreach ( $headers as $name => $value ) {
			if ( strtolower( (string)$name ) === 'message-id' ) {
				return (string)$value;
			}
		}
		return md5( serialize( $headers ) );
	}
}
