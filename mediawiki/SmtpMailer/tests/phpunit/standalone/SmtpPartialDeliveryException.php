<?php
/**
 * Stand-in for the smtp PHP extension's SmtpPartialDeliveryException (see
 * stubs/smtp.stub.php in the php-smtp repository), for tests run with an extension that does
 * not have it yet, or without the extension. Loaded only when the class does not exist.
 *
 * @license MIT
 * @file
 */

/**
 * Some recipients got the message, others did not.
 */
class SmtpPartialDeliveryException extends SmtpException {
	/** @var string[] */
	public $delivered = [];
	/** @var string[] */
	public $undelivered = [];
}
