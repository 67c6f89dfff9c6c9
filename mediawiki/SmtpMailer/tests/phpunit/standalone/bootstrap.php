<?php
/**
 * PHPUnit bootstrap for running tests/phpunit/unit without a wiki (tests/run-unit.sh): loads
 * the extension's classes, and doubles of what they and the tests use from MediaWiki and from
 * the smtp PHP extension, each only when the real one is not there.
 *
 * In a MediaWiki development checkout, MediaWiki's own PHPUnit setup runs the same tests (on
 * 1.39: composer phpunit:entrypoint -- extensions/SmtpMailer/tests/phpunit/unit) and this file
 * is not used.
 *
 * @license MIT
 * @file
 */

spl_autoload_register( static function ( string $class ): void {
	$prefix = 'MediaWiki\\Extension\\SmtpMailer\\';
	if ( strpos( $class, $prefix ) === 0 ) {
		$file = dirname( __DIR__, 3 ) . '/includes/' .
			str_replace( '\\', '/', substr( $class, strlen( $prefix ) ) ) . '.php';
		if ( is_file( $file ) ) {
			require_once $file;
		}
	}
} );

foreach ( [ 'MediaWikiUnitTestCase', 'MailAddress', 'SmtpException' ] as $class ) {
	if ( !class_exists( $class ) ) {
		require_once __DIR__ . "/$class.php";
	}
}
