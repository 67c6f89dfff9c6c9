<?php

namespace MediaWiki\Extension\SmtpMailer\Tests\Unit;

use MailAddress;
use MediaWiki\Extension\SmtpMailer\MailMapper;
use MediaWikiUnitTestCase;

#[\PHPUnit\Framework\Attributes\CoversClass( MailMapper::class )]
/**
 * @covers \MediaWiki\Extension\SmtpMailer\MailMapper
 */
class MailMapperTest extends MediaWikiUnitTestCase {

	public function testOptionsKeepTheKeysSmtpSendTakesInAnyCase() {
		[ $options, $dropped ] = ( new MailMapper( 50 ) )->options( [
			'host' => 'ssl://smtp.example.org',
			'port' => 465,
			'auth' => true,
			'username' => 'wiki@example.org',
			'password' => 'secret',
			'IDHost' => 'wiki.example.org',
			'localhost' => 'web1.example.org',
			'Timeout' => 10,
			'MAX_time' => 30,
		] );
		$this->assertSame( [
			'host' => 'ssl://smtp.example.org',
			'port' => 465,
			'auth' => true,
			'username' => 'wiki@example.org',
			'password' => 'secret',
			'IDHost' => 'wiki.example.org',
			'localhost' => 'web1.example.org',
			'Timeout' => 10,
			'MAX_time' => 30,
		], $options );
		$this->assertSame( [], $dropped );
	}

	public function testSettingsOnlyPhpIniMaySetAreNotPassedOn() {
		[ $options, $dropped ] = ( new MailMapper( 50 ) )->options( [
			'host' => 'mail.example.org',
			'cafile' => '/etc/ssl/ca.pem',
			'password_file' => '/etc/passwd',
			'verify_peer' => false,
		] );
		$this->assertSame( [ 'host' => 'mail.example.org' ], $options );
		$this->assertSame( [ 'cafile', 'password_file', 'verify_peer' ], $dropped );
	}

	public function testOptionsDropPearOnlyAndNumericKeysInOrder() {
		[ $options, $dropped ] = ( new MailMapper( 50 ) )->options( [
			'host' => 'mail.example.org',
			'persist' => true,
			'debug' => false,
			0 => 'stray',
			'socket_options' => [ 'ssl' => [ 'verify_peer' => false ] ],
			'verp' => true,
		] );
		$this->assertSame( [ 'host' => 'mail.example.org' ], $options );
		$this->assertSame( [ 'persist', 'debug', 0, 'socket_options', 'verp' ], $dropped );
	}

	public function testRecipientsAreTheHeaderFormOfEachMailAddress() {
		$mapper = new MailMapper( 50 );
		$ann = new MailAddress( 'ann@example.test', 'Ann' );
		$this->assertStringContainsString( '<ann@example.test>', $ann->toString() );
		$this->assertSame(
			[ $ann->toString(), 'bob@example.test' ],
			$mapper->recipients( [ $ann, new MailAddress( 'bob@example.test' ) ] )
		);
		$this->assertSame(
			[ $ann->toString() ],
			$mapper->recipients( $ann ),
			'a single MailAddress (AlternateUserMailer may get one)'
		);
		$this->assertSame( [ 'carol@example.test' ], $mapper->recipients( 'carol@example.test' ) );
	}

	public function testRecipientsWithoutAnAddressAreLeftOut() {
		$this->assertSame(
			[ 'bob@example.test' ],
			( new MailMapper( 50 ) )->recipients( [
				new MailAddress( '' ),
				new MailAddress( 'bob@example.test' ),
				'',
			] )
		);
		$this->assertSame( [], ( new MailMapper( 50 ) )->recipients( [] ) );
	}

	public function testOneRecipientIsShownInToAndHeadersStayAsMediaWikiMadeThem() {
		$headers = [
			'Return-Path' => 'bounces@example.test',
			'From' => 'Wiki <wiki@example.test>',
			'Message-ID' => '<wiki.1@wiki.example.test>',
			'MIME-Version' => '1.0',
		];
		$this->assertSame(
			[ [ 'Ann <ann@example.test>', $headers, [ 'Ann <ann@example.test>' ] ] ],
			( new MailMapper( 50 ) )->batches( [ 'Ann <ann@example.test>' ], $headers )
		);
	}

	public function testToAndSubjectHeadersAddedByAHookAreDropped() {
		$batches = ( new MailMapper( 50 ) )->batches(
			[ 'ann@example.test' ],
			[ 'From' => 'wiki@example.test', 'to' => 'x@example.test', 'SUBJECT' => 'x', 'Subject' => 'y' ]
		);
		$this->assertSame( [ 'From' => 'wiki@example.test' ], $batches[0][1] );
	}

	public function testSeveralRecipientsAreHiddenAndSentInBatches() {
		$headers = [ 'From' => 'wiki@example.test', 'Message-ID' => '<m@wiki.example.test>' ];
		$batches = ( new MailMapper( 2 ) )->batches(
			[ 'a@example.test', 'B <b@example.test>', 'c@example.test' ], $headers
		);
		$this->assertSame( [
			[ '', $headers + [
				'To' => 'undisclosed-recipients:;',
				'Bcc' => 'a@example.test, B <b@example.test>',
			], [ 'a@example.test', 'B <b@example.test>' ] ],
			[ '', $headers + [
				'To' => 'undisclosed-recipients:;',
				'Bcc' => 'c@example.test',
			], [ 'c@example.test' ] ],
		], $batches );
	}

	public function testBatchSizeBelowOneCountsAsOne() {
		$batches = ( new MailMapper( 0 ) )->batches( [ 'a@example.test', 'b@example.test' ], [] );
		$this->assertCount( 2, $batches );
		$this->assertSame( 'a@example.test', $batches[0][1]['Bcc'] );
		$this->assertSame( 'b@example.test', $batches[1][1]['Bcc'] );
	}

	public function testBodyIsTheMimeStringOrTheTextPart() {
		$mapper = new MailMapper( 50 );
		$this->assertSame( "Hello\n", $mapper->body( "Hello\n" ) );
		$this->assertSame( 'text', $mapper->body( [ 'text' => 'text', 'html' => '<p>html</p>' ] ) );
		$this->assertSame( '', $mapper->body( [ 'html' => '<p>html</p>' ] ) );
	}

	public function testMessageIdIdentifiesTheMessage() {
		$mapper = new MailMapper( 50 );
		$this->assertSame(
			'<wiki.1@wiki.example.test>',
			$mapper->messageId( [ 'From' => 'a@example.test', 'message-id' => '<wiki.1@wiki.example.test>' ] )
		);
		$noId = [ 'From' => 'a@example.test', 'Date' => 'Tue, 1 Dec 2026 10:00:00 +0000' ];
		$this->assertSame( $mapper->messageId( $noId ), $mapper->messageId( $noId ) );
		$this->assertNotSame(
			$mapper->messageId( $noId ),
			$mapper->messageId( [ 'From' => 'b@example.test' ] + $noId )
		);
	}
}
