//! `mail()` over SMTP: the handler that takes `mail()`'s place, its arguments parsed by PHP's
//! own rules, what PHP's own `mail()` does with them (mail.log, `mail.add_x_header`, the header
//! block check, the `-f` sender), and then a send through the pool. The caller sees what PHP's
//! own `mail()` gives: `true`, or a warning and `false`.
//!
//! The handler is swapped once at module startup; whether a call goes through SMTP is decided
//! per call from `smtp.override_mail`, because FPM applies `php_admin_value` after startup.
//! With the switch off the call goes to PHP's original handler untouched.

use std::borrow::Cow;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;

use ext_php_rs::ffi::{zend_execute_data, zval};
use ext_php_rs::types::Zval;

use super::zend::{self, MailParameters};
use super::{errors, ini};
use crate::error::Error;
use crate::mail_compat::{envelope_from_params, has_malformed_newlines, log_line};
use crate::message::{header_text, parse_header_block, sanitize_line, Draft};
use crate::pool;

/// Puts our handler in `mail()`'s place (MINIT).
pub fn install() {
    zend::install_mail_handler(mail_handler);
}

unsafe extern "C" fn mail_handler(ex: *mut zend_execute_data, retval: *mut zval) {
    if !ini::override_mail() {
        // SAFETY: the engine's arguments of this call, passed on unchanged.
        unsafe { zend::call_original_mail(ex, retval) };
        return;
    }
    // The engine's own guard: a panic becomes an Error exception, a bailout goes on to the
    // engine; neither unwinds through this frame.
    ext_php_rs::zend::run_handler(AssertUnwindSafe(|| {
        // SAFETY: `ex` is this call's frame; the parameters are dropped before we return.
        let Some(params) = (unsafe { zend::parse_mail_parameters(ex) }) else {
            return; // PHP threw (ArgumentCountError, TypeError, ValueError)
        };
        let Some(args) = mail_args(params) else {
            return;
        };
        let ok = handle(args);
        // SAFETY: PHP's return value slot for this call.
        unsafe { zend::set_return_bool(retval, ok) };
    }));
}

/// The arguments of a `mail()` call, parsed by PHP's own rules; the strings are PHP's.
pub struct MailArgs<'a> {
    pub to: &'a [u8],
    pub subject: &'a [u8],
    pub message: &'a [u8],
    /// The additional headers as one string: given as a string (right-trimmed, as PHP does),
    /// or built from an array by PHP's own `php_mail_build_headers()` (its checks and errors).
    pub headers: Option<Cow<'a, [u8]>>,
    pub params: Option<&'a [u8]>,
}

/// The 4th argument as PHP's own `mail()` takes it (`Z_PARAM_ARRAY_HT_OR_STR`). `None` when
/// PHP threw.
fn mail_args(p: MailParameters<'_>) -> Option<MailArgs<'_>> {
    let mut args = MailArgs {
        to: p.to,
        subject: p.subject,
        message: p.message,
        headers: None,
        params: p.params,
    };
    let Some(z) = p.headers else {
        return Some(args);
    };
    let text: Cow<'_, [u8]> = if z.is_array() || z.is_string() {
        // Borrowed from PHP for the rest of the call: no copy of the header string.
        let z: &Zval = z;
        if let Some(ht) = z.array() {
            args.headers = zend::mail_build_headers(ht).ok()?.map(Cow::Owned);
            return Some(args);
        }
        Cow::Borrowed(z.zend_str()?.as_bytes())
    } else {
        // Not an array or a string: PHP's weak-mode conversion, or its TypeError.
        Cow::Owned(zend::array_or_string_arg(z, 4)?)
    };
    if text.contains(&0) {
        zend::argument_value_error(4, c"must not contain any null bytes");
        return None;
    }
    let end = text
        .iter()
        .rposition(|b| !b" \t\n\r\x0b\0".contains(b))
        .map_or(0, |i| i + 1);
    args.headers = Some(match text {
        Cow::Borrowed(t) => Cow::Borrowed(&t[..end]),
        Cow::Owned(mut t) => {
            t.truncate(end);
            Cow::Owned(t)
        }
    });
    Some(args)
}

/// For mail.log only: PHP writes the bytes as they are; the log line is text.
fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Sends one `mail()` call; `false` after a warning when it was not sent.
fn handle(mut args: MailArgs<'_>) -> bool {
    // PHP passes no headers at all for an empty string or array.
    let headers = args.headers.take().filter(|h| !h.is_empty());
    let (file, line) = zend::executed_location();
    if let Some(target) = ini::get_nonempty("mail.log") {
        let entry = log_line(
            &file,
            line,
            &sanitize_line(&lossy(args.to)),
            headers.as_deref().map(lossy).as_deref(),
            &sanitize_line(&lossy(args.subject)),
        );
        write_log(&target, &entry);
    }
    let block = with_x_header(headers.unwrap_or_default(), &file);
    if has_malformed_newlines(&block) {
        zend::warning("Multiple or malformed newlines found in additional_header");
        return false;
    }
    let sent = texts(&args, &block).and_then(|(to, subject, block, params)| {
        send(to, subject, args.message, block, params.as_deref())
    });
    match sent {
        Ok(()) => true,
        Err(e) => {
            errors::warn(&e);
            false
        }
    }
}

/// The header block with X-PHP-Originating-Script first when `mail.add_x_header` asks for it,
/// as PHP puts it.
fn with_x_header<'a>(block: Cow<'a, [u8]>, file: &str) -> Cow<'a, [u8]> {
    if !ini::bool("mail.add_x_header") {
        return block;
    }
    let script = file.rsplit('/').next().unwrap_or("");
    let mut x = format!("X-PHP-Originating-Script: {}:{script}", script_owner(file)).into_bytes();
    if !block.is_empty() {
        x.extend_from_slice(b"\r\n");
        x.extend_from_slice(&block);
    }
    Cow::Owned(x)
}

/// To, Subject, the header block and the sendmail parameters as text: UTF-8, else refused
/// (PHP's bytes are never replaced).
fn texts<'b>(
    args: &MailArgs<'_>,
    block: &'b [u8],
) -> Result<(String, String, &'b str, Option<String>), Error> {
    let to = sanitize_line(header_text(args.to, "The To argument")?);
    let subject = sanitize_line(header_text(args.subject, "The Subject argument")?);
    let block = header_text(block, "The header block")?;
    let params = match ini::get_nonempty("mail.force_extra_parameters") {
        Some(forced) => Some(forced),
        None => match args.params {
            Some(p) => Some(header_text(p, "The sendmail parameters")?.to_string()),
            None => None,
        },
    };
    Ok((to, subject, block, params))
}

/// Appends to mail.log as PHP's own `mail()` does.
fn write_log(target: &str, entry: &str) {
    if target == "syslog" {
        zend::syslog_notice(entry);
        return;
    }
    let stamped = format!("[{}] {entry}\n", zend::mail_log_date());
    // PHP opens mail.log without open_basedir checks too: it is the admin's file.
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(target)
    {
        let _ = f.write_all(stamped.as_bytes());
    }
}

fn send(
    to: String,
    subject: String,
    body: &[u8],
    block: &str,
    params: Option<&str>,
) -> Result<(), Error> {
    let settings = ini::shared_settings(&[])?;
    let prepared = Draft {
        to,
        subject,
        body,
        headers: parse_header_block(block)?,
        envelope_from: match params.map(envelope_from_params).transpose() {
            Ok(from) => from.flatten(),
            Err(why) => {
                return Err(Error::Message(format!(
                    "the sendmail parameters (mail()'s 5th argument) cannot be taken over SMTP: \
                     {why}; only -f <address> (and -i, -t, -oi, -odb, -F <name>, which mean \
                     nothing here) apply"
                )))
            }
        },
        default_from: ini::get("sendmail_from"),
        idhost: settings.idhost.clone(),
        dsn: settings.dsn.clone(),
        require_tls: settings.require_tls,
    }
    .build()?;
    pool::send(&settings, &prepared)
}

/// The owner of the running script, as PHP's getmyuid() reports it.
fn script_owner(file: &str) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(file)
        .map(|m| m.uid())
        .unwrap_or_else(|_| crate::sys::uid())
}
