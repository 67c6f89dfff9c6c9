<?php
/**
 * Stand-in for the smtp PHP extension's SmtpException, for tests run without the extension.
 *
 * @license MIT
 * @file
 */

/**
 * Thrown by smtp_send() when the mail cannot be sent.
 */
class SmtpException extends Exception {
}
