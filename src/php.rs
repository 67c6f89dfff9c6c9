//! The PHP binding: `smtp_send()`, `smtp_stats()`, `SmtpException`, the `smtp.*` ini entries,
//! the phpinfo() section, and module startup/shutdown. Thin: it converts zvals to plain values,
//! calls the mail code, and turns its `Error` into an exception in one place.

use std::ffi::CString;

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::exception::PhpException;
use ext_php_rs::ffi::zend_ini_entry;
use ext_php_rs::flags::{DataType, IniEntryPermission};
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::{ce, ExecutorGlobals, IniEntryDef, ModuleEntry};
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

use crate::config::{self, Settings, Value};
use crate::doctor::{self, Verdict};
use crate::error::Error;
use crate::message::{check_name, check_value, Draft, Header};
use crate::transport::WIRE_LOG;
use crate::{mail_override, pool};

extern "C" {
    /// PHP's own table of a module's ini entries in phpinfo() (PHPAPI, not in ext-php-rs's
    /// bindings; resolved when the extension is loaded).
    fn display_ini_entries(module: *mut ModuleEntry);
}

/// Thrown by `smtp_send()`. Its code is the SMTP reply code (0 when the server said nothing).
#[php_class]
#[php(name = "SmtpException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct SmtpException;

/// Runs `f` with a reader of ini directives, straight from `EG(ini_directives)`: cheap enough
/// to do on every call, which is what makes per-request values (FPM `php_admin_value`,
/// `ini_set`) work. The globals are locked once for all the lookups `f` makes.
fn with_ini<T>(f: impl FnOnce(&dyn Fn(&str) -> Option<String>) -> T) -> T {
    let globals = ExecutorGlobals::get();
    // SAFETY: `EG(ini_directives)` is set up at engine startup and lives until shutdown; the
    // globals guard keeps it from being replaced while we read.
    let table = unsafe { globals.ini_directives.as_ref() };
    let get = |name: &str| -> Option<String> {
        let entry = table?.get(name)?;
        // SAFETY: the table stores `zend_ini_entry *` as pointer zvals (zend_hash_add_ptr).
        unsafe {
            let entry = entry.ptr::<zend_ini_entry>()?.as_ref()?;
            entry
                .value
                .as_ref()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        }
    };
    f(&get)
}

/// The value of one ini directive.
pub fn ini_get(name: &str) -> Option<String> {
    with_ini(|get| get(name))
}

pub fn ini_bool(name: &str) -> bool {
    matches!(
        ini_get(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref(),
        Some("1" | "on" | "yes" | "true")
    )
}

/// The effective settings: `smtp.*` ini values overlaid by a per-call options array.
pub fn settings(options: &[(String, Value)]) -> Result<Settings, Error> {
    // The full directive names, made once: this runs on every send.
    static NAMES: once_cell::sync::Lazy<Vec<(&str, String)>> = once_cell::sync::Lazy::new(|| {
        config::INI_DEFAULTS
            .iter()
            .map(|(name, _)| (*name, format!("smtp.{name}")))
            .collect()
    });
    let full = |name: &str| {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f.as_str())
    };
    with_ini(|get| Settings::resolve(&|name| full(name).and_then(get), options))
}

fn exception(func: &str, e: &Error) -> PhpException {
    PhpException::new(
        format!("{func}(): {e}"),
        i32::from(e.smtp_code()),
        SmtpException::get_metadata().ce(),
    )
}

/// A bad argument: PHP's TypeError or ValueError, as PHP's own functions raise them.
#[derive(Debug)]
pub enum ArgError {
    Type(String),
    Value(String),
}

impl ArgError {
    pub fn message(&self) -> &str {
        match self {
            ArgError::Type(m) | ArgError::Value(m) => m,
        }
    }
}

impl From<ArgError> for PhpException {
    fn from(e: ArgError) -> PhpException {
        match e {
            ArgError::Type(m) => PhpException::new(m, 0, ce::type_error()),
            ArgError::Value(m) => PhpException::new(m, 0, ce::value_error()),
        }
    }
}

fn type_error(msg: String) -> ArgError {
    ArgError::Type(msg)
}

fn value_error(msg: String) -> ArgError {
    ArgError::Value(msg)
}

/// A string argument, as bytes (a mail body need not be UTF-8); scalars convert as PHP would.
fn bytes_arg(z: &Zval, pos: u32, name: &str) -> Result<Vec<u8>, ArgError> {
    if let Some(s) = z.zend_str() {
        return Ok(s.as_bytes().to_vec());
    }
    match z.get_type() {
        DataType::Long => Ok(z.long().unwrap_or_default().to_string().into_bytes()),
        DataType::Double => Ok(z.double().unwrap_or_default().to_string().into_bytes()),
        _ => Err(type_error(format!(
            "smtp_send(): Argument #{pos} (${name}) must be of type string, {} given",
            type_name(z)
        ))),
    }
}

fn type_name(z: &Zval) -> &'static str {
    match z.get_type() {
        DataType::Null => "null",
        DataType::False | DataType::True | DataType::Bool => "bool",
        DataType::Long => "int",
        DataType::Double => "float",
        DataType::String => "string",
        DataType::Array => "array",
        DataType::Object(_) => "object",
        _ => "mixed",
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `$to`: one string, or an array of address strings.
fn recipients_arg(z: &Zval) -> Result<String, ArgError> {
    if let Some(arr) = z.array() {
        let mut parts = Vec::new();
        for (_, v) in arr {
            parts.push(lossy(&bytes_arg(v, 1, "to")?));
        }
        return Ok(parts.join(", "));
    }
    if z.zend_str().is_some() {
        return Ok(lossy(&bytes_arg(z, 1, "to")?));
    }
    Err(type_error(format!(
        "smtp_send(): Argument #1 ($to) must be of type array|string, {} given",
        type_name(z)
    )))
}

/// Headers as `mail()` takes them: a string block, or `['Name' => 'value' | ['v1', 'v2']]`.
/// Array names and values are checked like php-src does (no CR/LF except folding, no NUL).
pub fn headers_arg(z: Option<&Zval>, func: &str, pos: u32) -> Result<Vec<Header>, ArgError> {
    let Some(z) = z.filter(|z| !z.is_null()) else {
        return Ok(Vec::new());
    };
    if let Some(s) = z.zend_str() {
        return crate::message::parse_header_block(&lossy(s.as_bytes()))
            .map_err(|e| value_error(format!("{func}(): {e}")));
    }
    let Some(arr) = z.array() else {
        return Err(type_error(format!(
            "{func}(): Argument #{pos} ($headers) must be of type array|string, {} given",
            type_name(z)
        )));
    };
    let mut out = Vec::new();
    for (key, value) in arr {
        let name = match key {
            ext_php_rs::types::ArrayKey::Long(i) => {
                return Err(type_error(format!(
                    "{func}(): Header name cannot be numeric, {i} given"
                )))
            }
            other => other.to_string(),
        };
        check_name(&name).map_err(|e| value_error(format!("{func}(): {e}")))?;
        let mut push = |v: &Zval| -> Result<(), ArgError> {
            let Some(s) = v.zend_str() else {
                return Err(type_error(format!(
                    "{func}(): Header \"{name}\" must be of type array|string, {} given",
                    type_name(v)
                )));
            };
            let value = lossy(s.as_bytes());
            check_value(&name, &value).map_err(|e| value_error(format!("{func}(): {e}")))?;
            out.push(Header::new(name.clone(), value));
            Ok(())
        };
        match value.array() {
            Some(values) => {
                for (_, v) in values {
                    push(v)?;
                }
            }
            None => push(value)?,
        }
    }
    Ok(out)
}

/// A `$wgSMTP`-shaped array → (key, value) pairs.
fn options_arg(z: Option<&Zval>, func: &str, pos: u32) -> Result<Vec<(String, Value)>, ArgError> {
    let Some(z) = z.filter(|z| !z.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(arr) = z.array() else {
        return Err(type_error(format!(
            "{func}(): Argument #{pos} ($options) must be of type ?array, {} given",
            type_name(z)
        )));
    };
    arr.iter()
        .map(|(k, v)| {
            let value = match v.get_type() {
                DataType::Null => Value::Null,
                DataType::False => Value::Bool(false),
                DataType::True | DataType::Bool => Value::Bool(v.bool().unwrap_or(false)),
                DataType::Long => Value::Int(v.long().unwrap_or_default()),
                DataType::Double => Value::Float(v.double().unwrap_or_default()),
                DataType::String => Value::Str(lossy(
                    v.zend_str().map(|s| s.as_bytes()).unwrap_or_default(),
                )),
                _ => {
                    return Err(type_error(format!(
                        "{func}(): option \"{k}\" must be a string, int or bool, {} given",
                        type_name(v)
                    )))
                }
            };
            Ok((k.to_string(), value))
        })
        .collect()
}

/// Sends one message over SMTP and returns its Message-ID.
///
/// `$options` takes the keys of MediaWiki's `$wgSMTP` (host, port, auth, username, password,
/// IDHost, localhost) plus timeout and cafile; they override the `smtp.*` ini settings for this
/// call. Throws `SmtpException` when the mail cannot be sent.
#[php_function]
pub fn smtp_send(
    to: &Zval,
    subject: &Zval,
    body: &Zval,
    headers: Option<&Zval>,
    options: Option<&Zval>,
) -> PhpResult<String> {
    let to = recipients_arg(to)?;
    let subject = lossy(&bytes_arg(subject, 2, "subject")?);
    let body = bytes_arg(body, 3, "body")?;
    let headers = headers_arg(headers, "smtp_send", 4)?;
    let options = options_arg(options, "smtp_send", 5)?;
    let settings = settings(&options).map_err(|e| exception("smtp_send", &e))?;
    let draft = Draft {
        to,
        subject,
        body,
        headers,
        envelope_from: None,
        default_from: ini_get("sendmail_from"),
        idhost: settings.idhost.clone(),
    };
    let prepared = draft.build().map_err(|e| exception("smtp_send", &e))?;
    pool::send(&settings, &prepared).map_err(|e| exception("smtp_send", &e))?;
    Ok(prepared.message_id)
}

/// Checks the settings step by step (DNS, connect, greeting, EHLO, TLS, AUTH, MAIL FROM with
/// `$options['from']`, then RSET) without sending mail. `$options` as for `smtp_send()`, plus
/// `from`. Returns `['ok' => bool, 'steps' => [['step', 'status', 'detail', 'fix'], ...]]`.
#[php_function]
pub fn smtp_diagnose(options: Option<&Zval>) -> PhpResult<ext_php_rs::boxed::ZBox<ZendHashTable>> {
    let mut options = options_arg(options, "smtp_diagnose", 1)?;
    let from = options
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case("from"))
        .map(|i| options.remove(i).1);
    let from = match from {
        Some(Value::Str(f)) => Some(f),
        Some(Value::Null) | None => ini_get("sendmail_from"),
        Some(_) => {
            return Err(type_error(
                "smtp_diagnose(): option \"from\" must be a string (the sender address to try)"
                    .into(),
            )
            .into())
        }
    };
    let settings = settings(&options).map_err(|e| exception("smtp_diagnose", &e))?;
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
pub fn smtp_stats() -> PhpResult<ext_php_rs::boxed::ZBox<ZendHashTable>> {
    let s = pool::stats();
    let mut arr = ZendHashTable::new();
    for (k, v) in [
        ("connections_opened", s.connections_opened),
        ("connections_reused", s.connections_reused),
        ("retries", s.retries),
        ("messages_sent", s.messages_sent),
        ("failures", s.failures),
    ] {
        arr.insert(k, i64::try_from(v).unwrap_or(i64::MAX))?;
    }
    Ok(arr)
}

extern "C" fn module_info(module: *mut ModuleEntry) {
    info_table_start!();
    info_table_row!("SMTP support", "enabled");
    info_table_row!("Version", env!("CARGO_PKG_VERSION"));
    info_table_row!(
        "mail() override",
        if ini_bool("smtp.override_mail") {
            "on"
        } else {
            "off"
        }
    );
    match settings(&[]) {
        Ok(s) => {
            let tls = if s.implicit_tls {
                "implicit TLS"
            } else {
                "STARTTLS when offered"
            };
            info_table_row!("Server", format!("{} ({tls})", s.endpoint()));
            info_table_row!(
                "Auth user",
                if s.auth == config::AuthMode::Off {
                    "(no auth)".to_string()
                } else {
                    s.username.clone()
                }
            );
            info_table_row!(
                "Password",
                if s.password.is_empty() {
                    "(not set)"
                } else {
                    "********"
                }
            );
        }
        Err(e) => info_table_row!("Settings", format!("invalid: {e}")),
    }
    let st = pool::stats();
    info_table_row!("Connections opened", st.connections_opened.to_string());
    info_table_row!("Connections reused", st.connections_reused.to_string());
    info_table_row!("Retries", st.retries.to_string());
    info_table_row!("Messages sent", st.messages_sent.to_string());
    info_table_row!("Failures", st.failures.to_string());
    info_table_end!();
    // SAFETY: called by PHP while building phpinfo(), with this module's entry.
    unsafe { display_ini_entries(module) };
}

/// Values are validated when used (with a message naming the setting), so any string is
/// accepted here.
unsafe extern "C" fn accept_any_value(
    _entry: *mut zend_ini_entry,
    _new_value: *mut ext_php_rs::ffi::zend_string,
    _arg1: *mut std::ffi::c_void,
    _arg2: *mut std::ffi::c_void,
    _arg3: *mut std::ffi::c_void,
    _stage: std::ffi::c_int,
) -> std::ffi::c_int {
    0
}

/// phpinfo() shows the password as stars (or "no value"), never the value; the master column
/// shows the value php.ini set, as PHP's own displayer does.
unsafe extern "C" fn display_masked(entry: *mut zend_ini_entry, display_type: std::ffi::c_int) {
    const ZEND_INI_DISPLAY_ORIG: std::ffi::c_int = 1;
    // SAFETY: PHP passes the entry being displayed; its values are zend_strings or null.
    let value = unsafe {
        entry.as_ref().and_then(|e| {
            if display_type == ZEND_INI_DISPLAY_ORIG && e.modified != 0 {
                e.orig_value.as_ref()
            } else {
                e.value.as_ref()
            }
        })
    };
    let set = value.is_some_and(|v| !v.is_empty());
    ext_php_rs::php_print!("{}", if set { "********" } else { "no value" });
}

/// The ini table is made once from `config::INI_DEFAULTS` (one list of names and defaults for
/// the code and PHP) and must live for the whole process.
fn ini_table() -> &'static [IniEntryDef] {
    let mut defs: Vec<IniEntryDef> = config::INI_DEFAULTS
        .iter()
        .map(|(name_str, default)| {
            let name: &'static std::ffi::CStr = Box::leak(
                CString::new(format!("smtp.{name_str}"))
                    .expect("no NUL")
                    .into_boxed_c_str(),
            );
            let value: &'static std::ffi::CStr =
                Box::leak(CString::new(*default).expect("no NUL").into_boxed_c_str());
            let mut def = IniEntryDef::new(name, value, IniEntryPermission::All);
            // Without an on_modify handler PHP refuses ini_restore() at run time.
            def.on_modify = Some(accept_any_value);
            if *name_str == "password" {
                def.displayer = Some(display_masked);
            }
            def
        })
        .collect();
    defs.push(IniEntryDef::end());
    Box::leak(defs.into_boxed_slice())
}

extern "C" {
    /// PHP's error_log (PHPAPI; resolved when the extension is loaded).
    fn php_log_err_with_severity(message: *const std::ffi::c_char, syslog_type: std::ffi::c_int);
}

/// Warnings and, with `smtp.debug=1`, the SMTP conversation go to PHP's error log, where admins
/// look; RUST_LOG (env_logger syntax, e.g. `RUST_LOG=smtp=debug`) adds stderr output for
/// developers.
struct PhpLogger {
    env: env_logger::Logger,
}

impl PhpLogger {
    fn for_php(m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn || (m.target() == WIRE_LOG && m.level() <= log::Level::Info)
    }
}

impl log::Log for PhpLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        Self::for_php(m) || self.env.enabled(m)
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.env.matches(record) {
            self.env.log(record);
        }
        if Self::for_php(record.metadata()) {
            let line = format!("smtp: {}", record.args()).replace('\0', " ");
            if let Ok(c) = CString::new(line) {
                const LOG_NOTICE: std::ffi::c_int = 5;
                // SAFETY: a NUL-terminated message; called on the request's thread.
                unsafe { php_log_err_with_severity(c.as_ptr(), LOG_NOTICE) };
            }
        }
    }

    fn flush(&self) {}
}

pub fn startup(_ty: i32, module_number: i32) -> i32 {
    let env =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off")).build();
    let max = env.filter().max(log::LevelFilter::Info);
    if log::set_boxed_logger(Box::new(PhpLogger { env })).is_ok() {
        log::set_max_level(max);
    }
    IniEntryDef::register(ini_table(), module_number);
    mail_override::install();
    0
}

pub extern "C" fn shutdown(_ty: i32, _module_number: i32) -> i32 {
    let _ = std::panic::catch_unwind(|| {
        mail_override::restore();
        pool::shutdown();
    });
    0
}

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("smtp")
        .class::<SmtpException>()
        .function(wrap_function!(smtp_send))
        .function(wrap_function!(smtp_stats))
        .function(wrap_function!(smtp_diagnose))
        .info_function(module_info)
        .shutdown_function(shutdown)
}
