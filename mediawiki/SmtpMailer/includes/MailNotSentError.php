<?php
/**
 * @license MIT
 * @file
 */

namespace MediaWiki\Extension\SmtpMailer;

use ErrorPageError;

/**
 * Thrown when SmtpMailer had to send in the AlternateUserMailer hook (see Hooks) and the
 * mail was not sent to everyone. An ErrorPageError, so a web request shows a normal wiki error
 * page ("Mail not sent" / "The mail could not be sent: ...") and the API reports the message;
 * in a job or maintenance script it is an exception whose message is the English text.
 */
class MailNotSentError extends ErrorPageError {
	/**
	 * @param \Message $message What happened, with the server's words as a plaintext
	 *   parameter (see SendFailure::messageKey())
	 * @param string $titleKey Key of the page title (see SendFailure::titleKey())
	 */
	public function __construct( $message, string $titleKey = 'smtpmailer-error-title' ) {
		parent::__construct( $titleKey, $message );
	}
}
