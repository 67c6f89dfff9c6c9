<?php

namespace MediaWiki\Extension\SmtpMailer\Tests\Unit;

use MediaWiki\Extension\SmtpMailer\SendFailure;
use MediaWikiUnitTestCase;
use ReflectionClass;
use ReflectionProperty;
use SmtpException;
use Throwable;
use ValueError;

#[\PHPUnit\Framework\Attributes\CoversClass( SendFailure::class )]
/**
 * @covers \MediaWiki\Extension\SmtpMailer\SendFailure
 */
class SendFailureTest extends MediaWikiUnitTestCase {

	/**
	 * An exception of $class with $message and public properties $props, made without its
	 * constructor (the smtp extension's exceptions cannot be constructed from PHP).
	 *
	 * @param string $class
	 * @param string $message
	 * @param array $props
	 * @return Throwable
	 */
	private function exception( string $class, string $message, array $props = [] ): Throwable {
		$e = ( new ReflectionClass( $class ) )->newInstanceWithoutConstructor();
		if ( get_class( $e ) !== $class ) {
			// A PHP subclass of the loaded extension's SmtpException (a stand-in) comes out as
			// an SmtpException: ext-php-rs makes objects of the class that it registered.
			$this->markTestSkipped( "cannot make a $class with the loaded smtp extension" );
		}
		$p = new ReflectionProperty( \Exception::class, 'message' );
		$p->setAccessible( true );
		$p->setValue( $e, $message );
		foreach ( $props as $name => $value ) {
			$e->$name = $value;
		}
		return $e;
	}

	/**
	 * The two subclasses the smtp extension is gaining: the extension's own when it has them,
	 * else stand-ins with the same names, parents and properties.
	 */
	private function needOutcomeClasses(): void {
		if ( !class_exists( SendFailure::UNKNOWN_CLASS, false ) ) {
			require_once __DIR__ . '/../standalone/SmtpDeliveryUnknownException.php';
		}
		if ( !class_exists( SendFailure::PARTIAL_CLASS, false ) ) {
			require_once __DIR__ . '/../standalone/SmtpPartialDeliveryException.php';
		}
	}

	/**
	 * Before the smtp extension has the two subclasses, its exceptions are ordinary failures,
	 * and looking for the subclasses neither fails nor autoloads anything. (Run first in this
	 * file, before needOutcomeClasses() may define stand-ins.)
	 */
	public function testWithoutTheOutcomeClassesEveryExceptionIsAFailure() {
		$asked = [];
		$autoloader = static function ( string $class ) use ( &$asked ): void {
			$asked[] = $class;
		};
		spl_autoload_register( $autoloader );
		try {
			$absent = !class_exists( SendFailure::UNKNOWN_CLASS, false )
				&& !class_exists( SendFailure::PARTIAL_CLASS, false );
			require_once __DIR__ . '/../standalone/SmtpMailerLookalikeException.php';
			$e = $this->exception( \SmtpMailerLookalikeException::class, 'no reply', [
				'delivered' => [ 'a@example.test' ],
				'unknown' => [ 'b@example.test' ],
			] );
			$f = SendFailure::fromThrowable( $e, [], [ 'a@example.test', 'b@example.test' ], [] );
		} finally {
			spl_autoload_unregister( $autoloader );
		}
		$this->assertSame( SendFailure::FAILED, $f->kind(), 'same properties, other class' );
		$this->assertSame( [ 'a@example.test', 'b@example.test' ], $f->undelivered() );
		$this->assertSame( [], $asked, 'class_exists( ..., false ): no autoloading' );
		if ( $absent ) {
			$this->assertFalse( class_exists( SendFailure::UNKNOWN_CLASS, false ) );
			$this->assertFalse( class_exists( SendFailure::PARTIAL_CLASS, false ) );
		}
	}

	public function testAFailedCallMeansNobodyGotIt() {
		$f = SendFailure::fromThrowable(
			$this->exception( SmtpException::class,
				'smtp_send(): the server refused the sender <wiki@example.test>' ),
			[], [ 'ann@example.test' ], []
		);
		$this->assertSame( SendFailure::FAILED, $f->kind() );
		$this->assertSame( 'the server refused the sender <wiki@example.test>', $f->reason() );
		$this->assertSame( 'smtpmailer-error', $f->messageKey() );
		$this->assertSame( 'smtpmailer-error-title', $f->titleKey() );
		$this->assertSame( [], $f->messageNumbers() );
		$this->assertSame( [ 'ann@example.test' ], $f->undelivered() );
	}

	public function testAHeaderSmtpSendRefusesIsAFailureToo() {
		$f = SendFailure::fromThrowable(
			new ValueError( 'smtp_send(): Header "X-A" contains a line break' ),
			[], [ 'ann@example.test' ], [ 'bob@example.test' ]
		);
		$this->assertSame( SendFailure::FAILED, $f->kind() );
		$this->assertSame( 'Header "X-A" contains a line break', $f->reason() );
		$this->assertSame( [ 'ann@example.test', 'bob@example.test' ], $f->undelivered() );
	}

	public function testAFailureAfterEarlierBatchesIsPartial() {
		$f = SendFailure::fromThrowable(
			$this->exception( SmtpException::class, 'connection closed' ),
			[ 'a@example.test', 'b@example.test' ], [ 'c@example.test' ], [ 'd@example.test' ]
		);
		$this->assertSame( SendFailure::PARTIAL, $f->kind() );
		$this->assertSame( 'smtpmailer-error-partial', $f->messageKey() );
		$this->assertSame( 'smtpmailer-error-partial-title', $f->titleKey() );
		$this->assertSame( [ 2, 2 ], $f->messageNumbers() );
		$this->assertSame( [ 'a@example.test', 'b@example.test' ], $f->delivered() );
		$this->assertSame( [ 'c@example.test', 'd@example.test' ], $f->undelivered() );
	}

	public function testUnknownOutcomeIsNeverCalledAFailure() {
		$this->needOutcomeClasses();
		$f = SendFailure::fromThrowable(
			$this->exception( SendFailure::UNKNOWN_CLASS,
				'smtp_send(): no reply to the end of the message; it may have been delivered', [
					'delivered' => [ 'b@example.test' ],
					'unknown' => [ 'c@example.test' ],
				] ),
			[ 'a@example.test' ], [ 'b@example.test', 'c@example.test' ], [ 'd@example.test' ]
		);
		$this->assertSame( SendFailure::UNKNOWN, $f->kind() );
		$this->assertSame( 'smtpmailer-error-unknown', $f->messageKey() );
		$this->assertSame( 'smtpmailer-error-unknown-title', $f->titleKey() );
		$this->assertSame( 'no reply to the end of the message; it may have been delivered', $f->reason() );
		$this->assertSame( [ 'a@example.test', 'b@example.test' ], $f->delivered() );
		$this->assertSame( [ 'c@example.test' ], $f->unknown() );
		$this->assertSame( [ 'd@example.test' ], $f->undelivered(), 'later batches: not tried' );
		$this->assertSame( [ 1, 4 ], $f->messageNumbers(), 'unknown for 1 of 4 recipients' );
	}

	public function testCountsAreOfAllRecipientsEvenWhenTheListsLeaveSomeOut() {
		$this->needOutcomeClasses();
		$f = SendFailure::fromThrowable(
			$this->exception( SendFailure::UNKNOWN_CLASS, 'no reply', [
				'delivered' => [],
				'unknown' => [ 'a@example.test' ],
			] ),
			[], [ 'a@example.test', 'refused-at-rcpt@example.test' ], [ 'c@example.test' ]
		);
		$this->assertSame( [ 1, 3 ], $f->messageNumbers() );
		$f = SendFailure::fromThrowable(
			$this->exception( SendFailure::PARTIAL_CLASS, 'refused', [
				'delivered' => [ 'a@example.test' ],
				'undelivered' => [],
			] ),
			[], [ 'a@example.test', 'b@example.test' ], [ 'c@example.test' ]
		);
		$this->assertSame( [ 1, 2 ], $f->messageNumbers(), '1 got it, the 2 others did not' );
	}

	public function testUnknownOutcomeWithoutAListCoversTheWholeBatch() {
		$this->needOutcomeClasses();
		$f = SendFailure::fromThrowable(
			$this->exception( SendFailure::UNKNOWN_CLASS, 'timeout after the end of data', [
				'delivered' => [],
				'unknown' => [],
			] ),
			[], [ 'a@example.test', 'b@example.test' ], []
		);
		$this->assertSame( SendFailure::UNKNOWN, $f->kind() );
		$this->assertSame( [ 'a@example.test', 'b@example.test' ], $f->unknown() );
		$this->assertSame( [ 2, 2 ], $f->messageNumbers() );
	}

	public function testPartialDeliveryCountsWhoGotIt() {
		$this->needOutcomeClasses();
		$f = SendFailure::fromThrowable(
			$this->exception( SendFailure::PARTIAL_CLASS, 'the server refused <c@example.test>', [
				'delivered' => [ 'b@example.test' ],
				'undelivered' => [ 'c@example.test' ],
			] ),
			[ 'a@example.test' ], [ 'b@example.test', 'c@example.test' ], [ 'd@example.test' ]
		);
		$this->assertSame( SendFailure::PARTIAL, $f->kind() );
		$this->assertSame( [ 'a@example.test', 'b@example.test' ], $f->delivered() );
		$this->assertSame( [ 'c@example.test', 'd@example.test' ], $f->undelivered() );
		$this->assertSame( [ 2, 2 ], $f->messageNumbers() );
		$this->assertSame( [
			'outcome' => 'partial',
			'reason' => 'the server refused <c@example.test>',
			'delivered' => 'a@example.test, b@example.test',
			'undelivered' => 'c@example.test, d@example.test',
			'unknown' => '',
		], $f->logContext() );
	}

	public function testPartialDeliveryWithNobodyDeliveredIsAFailure() {
		$this->needOutcomeClasses();
		$f = SendFailure::fromThrowable(
			$this->exception( SendFailure::PARTIAL_CLASS, 'refused', [
				'delivered' => [],
				'undelivered' => [ 'a@example.test' ],
			] ),
			[], [ 'a@example.test' ], []
		);
		$this->assertSame( SendFailure::FAILED, $f->kind() );
	}
}
