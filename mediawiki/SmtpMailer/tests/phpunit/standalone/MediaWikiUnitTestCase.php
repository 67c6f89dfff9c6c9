<?php
/**
 * The base class of MediaWiki's unit tests, for running SmtpMailer's unit tests without a wiki.
 * MediaWiki's own adds checks that a unit test touches no global state; these tests do not.
 *
 * @license MIT
 * @file
 */

use PHPUnit\Framework\TestCase;

/**
 * A plain PHPUnit test case.
 */
abstract class MediaWikiUnitTestCase extends TestCase {
}
