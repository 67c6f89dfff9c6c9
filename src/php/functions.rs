//! The PHP functions: `smtp_send()`, `smtp_stats()`, `smtp_diagnose()`.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};

use super::args::{body_arg, headers_arg, options_arg, recipients_arg, text_arg};
use super::errors::{self, ArgError};
use super::{ini, zend};
use crate::config::{Caller, Value};
use crate::doctor::{self, Verdict};
use crate::message::Draft;
use crate::pool;

/// Sends one message over SMTP and returns its Message-ID.
///
/// `$options` takes the keys of MediaWiki's `$wgSMTP` (host, port, auth, username, password,
/// IDHost, localhost) plus timeout, max_time, starttls and debug; they override the `smtp.*`
/// ini settings for this call. Throws `SmtpException` when the mail was not sent,
/// `SmtpDeliveryUnknownException` when it may have been, `SmtpPartialDeliveryException` when
/// only some recipients got it.
#[php_function]
pub fn smtp_send(
    to: &Zval,
    subject: &Zval,
    body: &Zval,
    headers: Option<&Zval>,
    options: Option<&Zval>,
) -> PhpResult<String> {
    let to = recipients_arg(to)?;
    let subject = text_arg(subject, 2, "subject")?;
    let body = body_arg(body)?;
    let headers = headers_arg(headers, "smtp_send", 4)?;
    let options = options_arg(options, "smtp_send", 5)?;
    let result = ini::settings(&options).and_then(|settings| {
        let prepared = Draft {
            to,
            subject,
            body: &body,
            headers,
            envelope_from: None,
            default_from: ini::get("sendmail_from"),
            idhost: settings.idhost.clone(),
            dsn: settings.dsn.clone(),
            require_tls: settings.require_tls,
        }
        .build()?;
        pool::send(&settings, &prepared)?;
        Ok(prepared.message_id)
    });
    match result {
        Ok(id) => Ok(id),
        Err(e) => {
            // Thrown here, not returned, so the exception can carry its recipient lists; the
            // engine discards the return value of a call that threw.
            errors::throw("smtp_send()", &e);
            Ok(String::new())
        }
    }
}

/// Checks the settings step by step (DNS, connect, greeting, EHLO, TLS, AUTH, the sender with
/// `$options['from']`, then RSET) without sending mail. `$options` as for `smtp_send()`, plus
/// `from`. Returns `['ok' => bool, 'steps' => [['step', 'status', 'detail', 'fix'], ...]]`.
#[php_function]
pub fn smtp_diagnose(options: Option<&Zval>) -> PhpResult<ZBox<ZendHashTable>> {
    let mut options = options_arg(options, "smtp_diagnose", 1)?;
    let from = options
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case("from"))
        .map(|i| options.remove(i).1);
    let from = match from {
        Some(Value::Str(f)) => Some(f),
        Some(Value::Null) | None => ini::get("sendmail_from"),
        Some(_) => {
            return Err(ArgError::Type(
                "smtp_diagnose(): option \"from\" must be a string (the sender address to try)"
                    .into(),
            )
            .into())
        }
    };
    // On the command line (bin/smtp-doctor) the caller is whoever has the shell: they may name
    // the CA file or the password's variable; a web request may not.
    let caller = if zend::is_cli() {
        Caller::Admin
    } else {
        Caller::Script
    };
    let settings = match ini::settings_for(&options, caller) {
        Ok(s) => s,
        Err(e) => {
            errors::throw("smtp_diagnose()", &e);
            return Ok(ZendHashTable::new());
        }
    };
    let steps = doctor::diagnose(&settings, from.as_deref());
    let mut list = ZendHashTable::new();
    for step in &steps {
        let mut row = ZendHashTable::new();
        row.insert("step", step.name)?;
        row.insert("status", step.verdict.as_str())?;
        row.insert("detail", step.detail.as_str())?;
        match &step.fix {
            Some(f) => row.insert("fix", f.as_str())?,
            None => row.insert("fix", ())?,
        }
        list.push(row)?;
    }
    let mut out = ZendHashTable::new();
    out.insert("ok", !steps.iter().any(|s| s.verdict == Verdict::Fail))?;
    out.insert("steps", list)?;
    Ok(out)
}

/// The pool's counters for this worker process.
#[php_function]
pub fn smtp_stats() -> PhpResult<ZBox<ZendHashTable>> {
    let s = pool::stats();
    let mut arr = ZendHashTable::new();
    for (k, v) in [
        ("connections_opened", s.connections_opened),
        ("connections_reused", s.connections_reused),
        ("retries", s.retries),
        ("messages_sent", s.messages_sent),
        ("failures", s.failures),
        ("unknown", s.unknown),
        ("partial", s.partial),
    ] {
        arr.insert(k, i64::try_from(v).unwrap_or(i64::MAX))?;
    }
    match pool::last_server() {
        Some(server) => arr.insert("last_server", server)?,
        None => arr.insert("last_server", ())?,
    }
    Ok(arr)
}

/// Reflection types of the parameters (see `zend::narrow_parameter_types`), set at MINIT.
pub fn declare_types() {
    const NULL: u32 = 1 << 1;
    const STRING: u32 = 1 << 6;
    const ARRAY: u32 = 1 << 7;
    zend::narrow_parameter_types(
        "smtp_send",
        &[
            ARRAY | STRING,
            STRING,
            STRING,
            ARRAY | STRING | NULL,
            ARRAY | NULL,
        ],
    );
    zend::narrow_parameter_types("smtp_diagnose", &[ARRAY | NULL]);
}

/// Adds the functions to the module.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(smtp_send))
        .function(wrap_function!(smtp_stats))
        .function(wrap_function!(smtp_diagnose))
}
