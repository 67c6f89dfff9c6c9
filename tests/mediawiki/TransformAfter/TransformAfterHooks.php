<?php
/**
 * Test helper: stands for any extension that changes mail after SmtpMailer's
 * UserMailerTransformMessage handler (signing, footers, ...). It adds a header, which the
 * test looks for in the mail that arrives.
 */
class TransformAfterHooks implements MediaWiki\Hook\UserMailerTransformMessageHook {
	public function onUserMailerTransformMessage( $to, $from, &$subject, &$headers, &$body, &$error ) {
		$headers['X-Transformed-After'] = 'yes';
		return true;
	}
}
