<?php
/**
 * Thrown when SmtpMailer had to send in the AlternateUserMailer hook (see Hooks) and the
 * mail could not be sent. An ErrorPageError, so a web request shows a normal wiki error page
 * ("Mail not sent" / "The mail could not be sent: ...") and the API reports the message;
 * in a job or maintenance script it is an exception whose message is the English text.
 *
 * @license MIT
 */

namespace MediaWiki\Extension\SmtpMailer;

use ErrorPageError;

class MailNotSentError extends ErrorPageError {
	/**
	 * @param string $reason What failed, with the SMTP server's words (from the smtp extension)
	 */
	public function __construct( string $reason ) {
		parent::__construct( 'smtpmailer-error-title', 'smtpmailer-error', [ $reason ] );
	}
}
