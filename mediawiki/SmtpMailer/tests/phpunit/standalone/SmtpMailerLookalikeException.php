<?php
/**
 * An SmtpException with the properties of SmtpDeliveryUnknownException but another name: what
 * SendFailure must treat as an ordinary failure.
 *
 * @license MIT
 * @file
 */

class SmtpMailerLookalikeException extends SmtpException {
	/** @var string[] */
	public $delivered = [];
	/** @var string[] */
	public $unknown = [];
}
