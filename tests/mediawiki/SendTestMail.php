<?php
/**
 * Test helper for tests/mediawiki/run.sh: sends one mail through UserMailer::send(), the way
 * MediaWiki's own features do, and prints the outcome as one line of JSON:
 *
 *   {"ok":true,"good":true,"errors":[],"exception":null}
 *   {"ok":false,...,"errors":[{"message":"php-mail-error","params":["..."]}],"exception":null}
 *   {"ok":false,...,"exception":{"class":"...","message":"..."}}   (send() threw)
 *
 * Run with MW_INSTALL_PATH set to the wiki's directory:
 *   php tests/mediawiki/SendTestMail.php --to 'a@example.test,B <b@example.test>' \
 *       --from wiki@example.test --subject 'Grüße' --body 'Hello ...' [--html '<p>..</p>']
 *
 * The exit status is 0 whatever happened: the caller reads the JSON.
 */

$IP = getenv( 'MW_INSTALL_PATH' );
if ( $IP === false ) {
	fwrite( STDERR, "set MW_INSTALL_PATH to the wiki's directory\n" );
	exit( 2 );
}
require_once "$IP/maintenance/Maintenance.php";

class SendTestMail extends Maintenance {
	public function __construct() {
		parent::__construct();
		$this->addDescription( 'Send one mail with UserMailer::send() and print the Status as JSON' );
		$this->addOption( 'to', 'Recipients, comma separated ("Name <a@b>" or "a@b")', true, true );
		$this->addOption( 'from', 'Sender address', true, true );
		$this->addOption( 'from-name', 'Sender display name', false, true );
		$this->addOption( 'subject', 'Subject (UTF-8, not encoded)', true, true );
		$this->addOption( 'body', 'Plain text body', true, true );
		$this->addOption( 'html', 'HTML body: send text + HTML (needs $wgAllowHTMLEmail)', false, true );
		$this->addOption( 'replyto', 'Reply-To address', false, true );
	}

	/**
	 * @param string $spec "Name <a@b>" or "a@b"
	 * @return MailAddress
	 */
	private static function address( string $spec ): MailAddress {
		$spec = trim( $spec );
		if ( preg_match( '/^(.*?)\s*<([^>]+)>$/', $spec, $m ) ) {
			return new MailAddress( $m[2], trim( $m[1], " \"" ) );
		}
		return new MailAddress( $spec );
	}

	public function execute() {
		$to = array_map( [ self::class, 'address' ], explode( ',', $this->getOption( 'to' ) ) );
		$from = new MailAddress( $this->getOption( 'from' ), $this->getOption( 'from-name', null ) );
		$body = $this->getOption( 'body' );
		if ( $this->hasOption( 'html' ) ) {
			$body = [ 'text' => $body, 'html' => $this->getOption( 'html' ) ];
		}
		$options = [];
		if ( $this->hasOption( 'replyto' ) ) {
			$options['replyTo'] = self::address( $this->getOption( 'replyto' ) );
		}

		$out = [ 'ok' => false, 'good' => false, 'errors' => [], 'exception' => null ];
		try {
			$status = UserMailer::send( $to, $from, $this->getOption( 'subject' ), $body, $options );
			$out['ok'] = $status->isOK();
			$out['good'] = $status->isGood();
			foreach ( $status->getErrors() as $e ) {
				$out['errors'][] = [
					'message' => $e['message'] instanceof MessageSpecifier
						? $e['message']->getKey() : (string)$e['message'],
					'params' => array_map( 'strval', $e['params'] ?? [] ),
				];
			}
		} catch ( Throwable $e ) {
			$out['exception'] = [ 'class' => get_class( $e ), 'message' => $e->getMessage() ];
		}
		$this->output( json_encode( $out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES ) . "\n" );
	}
}

$maintClass = SendTestMail::class;
require_once RUN_MAINTENANCE_IF_MAIN;
