<?php

$cfg = require __DIR__ . '/../vendor/mediawiki/mediawiki-phan-config/src/config.php';

// The smtp PHP extension's functions and classes (smtp_send(), SmtpException, ...), declared in
// the php-smtp repository's stub file when the extension is checked from there.
$stubs = __DIR__ . '/../../../stubs';
if ( is_dir( $stubs ) ) {
	$cfg['directory_list'][] = $stubs;
	$cfg['exclude_analysis_directory_list'][] = $stubs;
}

return $cfg;
