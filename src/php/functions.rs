//! The PHP functions: `smtp_send()`, `smtp_stats()`, `smtp_diagnose()`, `smtp_oauth_login()`.

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
    let result = ini::shared_settings(&options).and_then(|settings| {
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

/// Signs a mailbox in once for `smtp.oauth_provider=microsoft-delegated` (device code: prints
/// the URL and the code, then waits) or `google-user` (prints the URL to open; the browser
/// comes back to 127.0.0.1), and stores the refresh token in `smtp.oauth_refresh_token_file`.
/// Command line only (bin/smtp-doctor oauth-login). `$options` as for `smtp_diagnose()` (the
/// `oauth_*` settings may be named), plus `loopback_port`, `auth_url` and `wait` (seconds).
/// Returns the file written.
#[php_function]
pub fn smtp_oauth_login(options: Option<&Zval>) -> PhpResult<String> {
    const FUNC: &str = "smtp_oauth_login()";
    if !zend::is_cli() {
        return Err(ArgError::Type(format!(
            "{FUNC} signs in interactively and runs on the command line only (smtp-doctor \
             oauth-login)"
        ))
        .into());
    }
    let mut options = options_arg(options, "smtp_oauth_login", 1)?;
    let mut take = |key: &str| {
        options
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|i| options.remove(i).1)
    };
    let number = |v: Option<Value>, default: u64| match v {
        Some(Value::Int(n)) => u64::try_from(n).unwrap_or(default),
        Some(Value::Str(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    };
    let port = u16::try_from(number(take("loopback_port"), 0)).unwrap_or(0);
    let wait = std::time::Duration::from_secs(number(take("wait"), 300));
    let auth_url = match take("auth_url") {
        Some(Value::Str(u)) if !u.is_empty() => Some(u),
        _ => None,
    };
    let fail = |e: &crate::error::Error| {
        errors::throw(FUNC, e);
        Ok(String::new())
    };
    let settings = match ini::settings_for(&options, Caller::Admin) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let Some(oauth) = settings.oauth.clone().filter(|o| o.provider.delegated()) else {
        return fail(&crate::error::Error::Config(
            "oauth-login is for smtp.oauth_provider=microsoft-delegated or google-user (set it, \
             with smtp.oauth_client_id and smtp.oauth_refresh_token_file, in php.ini or as \
             --oauth-provider=...)"
                .into(),
        ));
    };
    let limits = crate::oauth::Limits {
        step: settings.timeout,
        until: None,
    };
    let file = oauth
        .refresh_token_file
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let done = if oauth.provider == crate::oauth::Provider::MicrosoftDelegated {
        crate::oauth::login::device_code(&oauth, limits).and_then(|code| {
            match &code.message {
                Some(m) => ext_php_rs::php_println!("{}", m),
                None => ext_php_rs::php_println!(
                    "Open {} and enter the code {}",
                    code.verification_uri,
                    code.user_code
                ),
            }
            ext_php_rs::php_println!("Sign in as {} there. Waiting...", oauth.user);
            crate::oauth::login::device_code_finish(&oauth, &code, limits, &mut |_| {})
        })
    } else {
        crate::oauth::login::loopback(
            &oauth,
            auth_url.as_deref(),
            port,
            wait,
            limits,
            &mut |url, port| {
                ext_php_rs::php_println!(
                    "Open this URL in a browser and sign in as {}:\n\n{}\n\nOn a headless \
                     server, first run on your own computer:  ssh -L {}:127.0.0.1:{} \
                     <this server>  (and open the URL there). Waiting up to {} s...",
                    oauth.user,
                    url,
                    port,
                    port,
                    wait.as_secs()
                );
            },
        )
    };
    match done {
        Ok(()) => Ok(file),
        Err(e) => fail(&crate::error::Error::Token(e)),
    }
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
    zend::narrow_parameter_types("smtp_oauth_login", &[ARRAY | NULL]);
}

/// Adds the functions to the module.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(smtp_send))
        .function(wrap_function!(smtp_stats))
        .function(wrap_function!(smtp_diagnose))
        .function(wrap_function!(smtp_oauth_login))
}
