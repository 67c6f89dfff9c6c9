<?php
/**
 * Stand-in for the smtp PHP extension's SmtpDeliveryUnknownException (see
 * stubs/smtp.stub.php in the php-smtp repository), for tests run with an extension that does
 * not have it yet, or without the extension. Loaded only when the class does not exist.
 *
 * @license MIT
 * @file
 */

/**
 * The message was written but no final reply came: it may have been delivered.
 */
class SmtpDeliveryUnknownException extends SmtpException {
	/** @var string[] */
	public $delivered = [];
	/** @var string[] */
	public $unknown = [];
}
