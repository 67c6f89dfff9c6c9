# php-smtp: a PHP 8.2 extension, written in Rust, that sends mail over SMTP.
#
#   make demo     build, then send two mails to a local smtp-sink and show what arrived
#   make test     fmt, clippy, Rust tests, release build, phpt suite, integration tests
#   make build    cargo build --release  (target/release/libsmtp.so)
#   make install  install the built extension into PHP 8.2 and enable it (as root)
#   make clean    remove build output and phpt leftovers

SHELL      := /bin/bash
PHP_CONFIG ?= php-config8.2
EXT_DIR     = $(shell $(PHP_CONFIG) --extension-dir)
INI_DIR    ?= /etc/php/8.2/mods-available
LIB         = target/release/libsmtp.so

.PHONY: all demo test build install clean

all: build

demo:
	scripts/demo.sh

test:
	scripts/test.sh

build:
	cargo build --release

# Does not build: `sudo make install` usually runs without the user's rustup toolchain.
install:
	@test -f $(LIB) || { echo "$(LIB) not found: run 'make build' first" >&2; exit 1; }
	install -D -m 0644 $(LIB) $(EXT_DIR)/smtp.so
	install -D -m 0644 ini/smtp.ini $(INI_DIR)/smtp.ini
	phpenmod -v 8.2 smtp

# run-tests.php leaves X.{diff,exp,log,out,php,sh} next to each failed X.phpt.
clean:
	cargo clean
	find php-tests -name '*.phpt' -print0 | while IFS= read -r -d '' t; do \
		rm -f "$${t%.phpt}".diff "$${t%.phpt}".exp "$${t%.phpt}".log \
		      "$${t%.phpt}".out "$${t%.phpt}".php "$${t%.phpt}".sh; \
	done
