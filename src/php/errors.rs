//! The exception classes, and the one place where an `Error` becomes what PHP sees: an exception
//! from `smtp_send()`/`smtp_diagnose()`, a warning from `mail()`.
//!
//! The classes are registered with ext-php-rs's plain `ClassBuilder`, not `#[php_class]`: a
//! `#[php_class]` replaces the object constructor, so the exception would lose the file, line
//! and trace that PHP's own exception constructor records.

use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::args::ArgInfoTables;
use ext_php_rs::builders::{ClassBuilder, ClassProperty};
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::PropertyFlags;
use ext_php_rs::zend::{ce, ClassEntry};

use super::zend;
use crate::error::Error;

/// The class entries, set once at MINIT; the engine keeps them for the process.
static SMTP: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());
static UNKNOWN: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());
static PARTIAL: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());

fn keep(cell: &AtomicPtr<ClassEntry>, class: &'static mut ClassEntry) {
    cell.store(class, Ordering::Release);
}

/// A registered class, else `fallback` (only before MINIT registered it).
fn class(
    cell: &AtomicPtr<ClassEntry>,
    fallback: fn() -> &'static ClassEntry,
) -> &'static ClassEntry {
    // SAFETY: null, or a class entry the engine owns for the life of the process.
    unsafe { cell.load(Ordering::Acquire).as_ref() }.unwrap_or_else(fallback)
}

fn smtp_exception() -> &'static ClassEntry {
    class(&SMTP, ce::exception)
}

fn public_array(name: &str) -> ClassProperty {
    ClassProperty {
        name: name.into(),
        flags: PropertyFlags::Public,
        default: None,
        docs: &[],
        ty: None,
        nullable: true,
        readonly: false,
        default_stub: None,
    }
}

/// Registers `SmtpException` (code = the SMTP reply code, 0 when the server said nothing),
/// `SmtpDeliveryUnknownException` and `SmtpPartialDeliveryException` (MINIT).
pub fn register() -> ext_php_rs::error::Result<()> {
    ClassBuilder::new("SmtpException")
        .extends((ce::exception, "\\Exception"))
        .registration(|c: &'static mut ClassEntry, _: ArgInfoTables| keep(&SMTP, c))
        .register()?;
    ClassBuilder::new("SmtpDeliveryUnknownException")
        .extends((smtp_exception, "SmtpException"))
        .property(public_array("delivered"))
        .property(public_array("unknown"))
        .property(public_array("undelivered"))
        .registration(|c: &'static mut ClassEntry, _: ArgInfoTables| keep(&UNKNOWN, c))
        .register()?;
    ClassBuilder::new("SmtpPartialDeliveryException")
        .extends((smtp_exception, "SmtpException"))
        .property(public_array("delivered"))
        .property(public_array("undelivered"))
        .registration(|c: &'static mut ClassEntry, _: ArgInfoTables| keep(&PARTIAL, c))
        .register()
}

/// Throws the exception for `e` from `func` ("smtp_send()"), with its lists of recipients.
pub fn throw(func: &str, e: &Error) {
    let message = format!("{func}: {e}");
    let code = i32::from(e.smtp_code());
    match e {
        Error::Unknown {
            delivered,
            unknown,
            undelivered,
            ..
        } => {
            PhpException::new(message, code, class(&UNKNOWN, smtp_exception)).throw();
            zend::set_pending_exception_property("delivered", delivered);
            zend::set_pending_exception_property("unknown", unknown);
            zend::set_pending_exception_property("undelivered", undelivered);
        }
        Error::Partial {
            delivered,
            undelivered,
            ..
        } => {
            PhpException::new(message, code, class(&PARTIAL, smtp_exception)).throw();
            zend::set_pending_exception_property("delivered", delivered);
            zend::set_pending_exception_property("undelivered", undelivered);
        }
        _ => PhpException::new(message, code, smtp_exception()).throw(),
    }
}

/// `mail()`'s failure: a warning, as PHP's own `mail()` gives, with the same words.
pub fn warn(e: &Error) {
    zend::warning(&e.to_string());
}

/// A bad argument: PHP's TypeError or ValueError, as PHP's own functions raise them.
#[derive(Debug)]
pub enum ArgError {
    Type(String),
    Value(String),
}

impl From<ArgError> for PhpException {
    fn from(e: ArgError) -> PhpException {
        match e {
            ArgError::Type(m) => PhpException::new(m, 0, ce::type_error()),
            ArgError::Value(m) => PhpException::new(m, 0, ce::value_error()),
        }
    }
}
