<?php
/**
 * A minimal double of MediaWiki's MailAddress, for the unit tests run without a wiki: the real
 * class needs MediaWiki's global functions, configuration and UserMailer to format itself.
 *
 * @license MIT
 * @file
 */

/**
 * A name and an address, formatted for a header.
 */
class MailAddress {
	/** @var string */
	public $name;
	/** @var string */
	public $realName;
	/** @var string */
	public $address;

	/**
	 * @param string $address
	 * @param string|null $name
	 * @param string|null $realName
	 */
	public function __construct( $address, $name = null, $realName = null ) {
		$this->address = (string)$address;
		$this->name = (string)$name;
		$this->realName = (string)$realName;
	}

	/**
	 * @return string
	 */
	public function toString() {
		if ( $this->address === '' ) {
			return '';
		}
		return $this->name === '' ? $this->address : "{$this->name} <{$this->address}>";
	}

	/**
	 * @return string
	 */
	public function __toString() {
		return $this->toString();
	}
}
