//! `mail()` over SMTP: what PHP's own `mail()` does with its arguments (already parsed by PHP's
//! rules, see `zend::mail_args`), mail.log, `mail.add_x_header`, the header block check, the
//! `-f` sender, and then a send through the pool. The caller sees what PHP's own `mail()`
//! gives: `true`, or a warning and `false`.
//!
//! The handler is swapped once at module startup; whether a call goes through SMTP is decided
//! per call from `smtp.override_mail`, because FPM applies `php_admin_value` after startup.
//! With the switch off the call goes to PHP's original handler untouched.

use std::io::Write as _;

use super::zend::{self, MailArgs};
use super::{errors, ini};
use crate::error::Error;
use crate::mail_compat::{envelope_from_params, has_malformed_newlines, log_line};
use crate::message::{parse_header_block, sanitize_line, Draft};
use crate::pool;

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Sends one `mail()` call; `false` after a warning when it was not sent.
pub fn handle(args: MailArgs) -> bool {
    let to = sanitize_line(&lossy(&args.to));
    let subject = sanitize_line(&lossy(&args.subject));
    // PHP passes no headers at all for an empty string or array.
    let headers = args.headers.map(|h| lossy(&h)).filter(|h| !h.is_empty());
    let params = match ini::get("mail.force_extra_parameters").filter(|p| !p.is_empty()) {
        Some(forced) => Some(forced),
        None => args.params.map(|p| lossy(&p)),
    };

    let (file, line) = zend::executed_location();
    if let Some(target) = ini::get("mail.log").filter(|l| !l.is_empty()) {
        let entry = log_line(&file, line, &to, headers.as_deref(), &subject);
        if target == "syslog" {
            zend::syslog_notice(&entry);
        } else {
            let stamped = format!("[{}] {entry}\n", zend::mail_log_date());
            // PHP opens mail.log without open_basedir checks too: it is the admin's file.
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&target)
            {
                let _ = f.write_all(stamped.as_bytes());
            }
        }
    }

    let mut block = headers.unwrap_or_default();
    if ini::bool("mail.add_x_header") {
        // First, as PHP puts it.
        let script = file.rsplit('/').next().unwrap_or("");
        let x = format!("X-PHP-Originating-Script: {}:{script}", script_owner(&file));
        block = if block.is_empty() {
            x
        } else {
            format!("{x}\r\n{block}")
        };
    }
    if has_malformed_newlines(block.as_bytes()) {
        zend::warning("Multiple or malformed newlines found in additional_header");
        return false;
    }
    match send(to, subject, args.message, &block, params.as_deref()) {
        Ok(()) => true,
        Err(e) => {
            errors::warn(&e);
            false
        }
    }
}

fn send(
    to: String,
    subject: String,
    body: Vec<u8>,
    block: &str,
    params: Option<&str>,
) -> Result<(), Error> {
    let settings = ini::settings(&[])?;
    let prepared = Draft {
        to,
        subject,
        body,
        headers: parse_header_block(block)?,
        envelope_from: params.and_then(envelope_from_params),
        default_from: ini::get("sendmail_from"),
        idhost: settings.idhost.clone(),
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
