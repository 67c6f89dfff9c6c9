# php-smtp: a PHP extension (PHP 8.2 on Debian 12, 8.4 on Debian 13, 8.5 and 8.6 RC on sid +
# experimental), written in Rust, that sends mail over SMTP.
#
#   make demo     build, then send two mails to a local smtp-sink and show what arrived
#   make test     the whole suite here, then in a Debian 13 root, then PHP 8.5 (whole suite) and
#                 PHP 8.6 RC (build + phpt) in a sid + experimental root, then the package tests,
#                 thread-safe PHP and the ready-built archives (make test PARTS=local | debian12 |
#                 debian13 | php85 | php86 | deb | zts | dist: only those parts)
#   make build    cargo build --release  (target/release/libsmtp.so)
#   make install  install the built extension into its PHP and enable it (as root)
#   make deb      php8.2-smtp_<version>-1_amd64.deb, php8.4-smtp_... and php8.5-smtp_..., into
#                 target/debian/ (make deb DISTS=debian13: only that one; each is built on its
#                 own release, php8.5-smtp on sid + experimental)
#   make dist     ready-built archives for PIE and Docker, one per tested PHP, into target/dist/:
#                 php_smtp-<version>_php<X.Y>-x86_64-linux-glibc-<nts|zts>.tgz + SHA256SUMS
#                 (make dist PLATFORMS=debian13/php8.4: only that one; scripts/dist.sh --list)
#   make root     a shell in the Debian 13 development root (ROOT=debian12 for Debian 12, ROOT=sid
#                 for PHP 8.5 and 8.6 RC)
#   make soak     the reference-chain harness (tests/reference.rs) with new seeds for SOAK_SECS
#                 (default 600) seconds, as root; differences are appended to
#                 tests/reference/regressions.jsonl (commit them with the fix)
#   make clean    remove build output and phpt leftovers
#
# Which PHP (default: the distribution's, Debian 12 -> 8.2, Debian 13 -> 8.4; scripts/php-env.sh):
#   make build PHP_VERSION=8.4
#   make build PHP_CONFIG=/usr/bin/php-config8.4
# CARGO_TARGET_DIR moves the build output as usual.

SHELL := /bin/bash
# Passed on to the scripts only when given (ext-php-rs would take an empty PHP for a path).
ifdef PHP_VERSION
export PHP_VERSION
endif
ifdef PHP_CONFIG
export PHP_CONFIG
endif
ifdef PHP
export PHP
endif
ifdef CARGO_TARGET_DIR
export CARGO_TARGET_DIR
endif

PARTS      ?=
SOAK_SECS  ?= 600
DISTS      ?=
PLATFORMS  ?=
ROOT       ?= debian13
LIB         = $(or $(CARGO_TARGET_DIR),target)/release/libsmtp.so
# Resolve the PHP (exports PHP and PHP_CONFIG for ext-php-rs, and its paths).
PHP_ENV     = . scripts/php-env.sh && php_env_resolve

.PHONY: all demo test build install deb dist root clean soak

all: build

demo:
	scripts/demo.sh

test:
	scripts/test.sh $(PARTS)

build:
	$(PHP_ENV) && cargo build --release

# Does not build: `sudo make install` usually runs without the user's rustup toolchain.
install:
	@test -f $(LIB) || { echo "$(LIB) not found: run 'make build' first" >&2; exit 1; }
	$(PHP_ENV) && \
	install -D -m 0644 $(LIB) "$$PHP_EXT_DIR/smtp.so" && \
	install -D -m 0644 ini/smtp.ini "$$PHP_MODS_DIR/smtp.ini" && \
	phpenmod -v "$$PHP_VERSION" smtp && \
	echo "installed $$PHP_EXT_DIR/smtp.so and $$PHP_MODS_DIR/smtp.ini, enabled for PHP $$PHP_VERSION"

deb:
	scripts/deb.sh $(DISTS)

dist:
	scripts/dist.sh $(PLATFORMS)

# Builds first: the harness refuses a release build older than src/.
soak:
	$(PHP_ENV) && cargo build --release && \
	REFERENCE_SOAK_SECS=$(SOAK_SECS) cargo test --no-default-features --test reference

root:
	scripts/root.sh $(ROOT)

# run-tests.php leaves X.{diff,exp,log,out,php,sh} next to each failed X.phpt.
clean:
	cargo clean
	find php-tests -name '*.phpt' -print0 | while IFS= read -r -d '' t; do \
		rm -f "$${t%.phpt}".diff "$${t%.phpt}".exp "$${t%.phpt}".log \
		      "$${t%.phpt}".out "$${t%.phpt}".php "$${t%.phpt}".sh; \
	done
