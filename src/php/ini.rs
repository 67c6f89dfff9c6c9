//! The `smtp.*` ini entries: registered from `config::SETTINGS` (one list of names, defaults
//! and who may set them, for the code and for PHP), read on every call, and shown by phpinfo()
//! with the password masked.
//!
//! Who set a value is learnt from the stage at which PHP changes it: php.ini, PHP-FPM's pool
//! values and Apache's server configuration are the administrator's (startup and request
//! activation); `.user.ini`/`.htaccess` and `ini_set()` are the site's. The administrator's
//! values are kept here, so the endpoint binding compares with them whatever a script changed.
//! The administrator's secrets (`HIDDEN`) are kept only here: their handler refuses them to PHP,
//! which then keeps showing the empty default, so `ini_get()` and `ini_get_all()` cannot read
//! them back; a script's own `ini_set('smtp.password', ...)` stays its own, visible value.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void, CStr, CString};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use ext_php_rs::ffi::{zend_ini_entry, zend_string};
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::IniEntryDef;
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::zend::{self, IniStage};
use crate::config::{self, Caller, Scope, Settings, Value};
use crate::error::Error;

/// The administrator's secrets: never a visible ini value, shown as stars in phpinfo().
const HIDDEN: &[&str] = &["password", "oauth_client_secret"];

/// Values the administrator set for the process: php.ini and `-d` at startup, PHP-FPM's pool
/// and FastCGI values (an FPM worker keeps them for its life, as FPM keeps the entry's value).
static PROCESS: Lazy<Mutex<HashMap<String, String>>> = Lazy::new(|| Mutex::new(HashMap::new()));

thread_local! {
    /// Values the administrator set for this request (Apache's server configuration, php.ini
    /// `[PATH=]` sections); PHP sets them back at the end of the request.
    static ACTIVATED: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// The value the administrator set for `name` (without `smtp.`), if any.
fn admin_value(name: &str) -> Option<String> {
    ACTIVATED
        .with(|a| a.borrow().get(name).cloned())
        .or_else(|| PROCESS.lock().get(name).cloned())
}

/// Counts changes of any `smtp.*` value and of the administrator's record of them. Every change
/// of an entry goes through its `on_modify` handler (php.ini, FPM's values, `.user.ini`,
/// `ini_set()`, `ini_restore()`, the reset at the end of a request), and the administrator's
/// values change only there and at the end of a request: while this count holds still, the
/// settings resolved from them are what they were.
static CHANGES: AtomicU64 = AtomicU64::new(0);

fn changed() {
    CHANGES.fetch_add(1, Ordering::AcqRel);
}

/// The last call's resolved settings, and what they were resolved from.
struct Memo {
    changes: u64,
    caller: Caller,
    options: Vec<(String, Value)>,
    /// The system host name, when `idhost` or `localhost` may be it (looked up per call).
    hostname: Option<String>,
    /// Shared with the calls that take it (`shared_settings`): no copy per call.
    settings: Rc<Settings>,
}

thread_local! {
    /// Per thread: under ZTS each thread has its own ini values.
    static MEMO: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

/// After each request: the administrator's values for that request are gone, even one a
/// script's `ini_restore()` took out of PHP's list of changed entries, which PHP then does not
/// set back at the end (Apache's `php_value` is applied at activation without locking the
/// entry; `php_admin_value` and php.ini `[PATH=]` lock it, so there ini_restore() is refused).
pub extern "C" fn end_request() -> i32 {
    zend::guard("the end of a request", 0, || {
        ACTIVATED.with(|a| {
            let mut a = a.borrow_mut();
            if !a.is_empty() {
                a.clear();
                changed();
            }
        });
        0
    })
}

/// Notes who set a value; false refuses it to PHP (it keeps showing what it showed).
fn record(name: &str, change: zend::IniChange, stage: IniStage) -> bool {
    let value = change.value.unwrap_or_default();
    let shown = !HIDDEN.contains(&name) || value.is_empty();
    match stage {
        IniStage::Startup if change.restated => true,
        IniStage::Startup | IniStage::Activate if !change.for_request => {
            PROCESS.lock().insert(name.to_string(), value);
            shown
        }
        // Changed for this request only: set back at its end.
        IniStage::Startup | IniStage::Activate => {
            ACTIVATED.with(|a| a.borrow_mut().insert(name.to_string(), value));
            shown
        }
        IniStage::Deactivate => {
            ACTIVATED.with(|a| a.borrow_mut().remove(name));
            true
        }
        IniStage::Runtime | IniStage::Htaccess | IniStage::Shutdown => true,
    }
}

/// `smtp.<name>` for every setting, made once: settings are resolved on every send.
static FULL_NAMES: Lazy<Vec<(&'static str, String)>> = Lazy::new(|| {
    config::SETTINGS
        .iter()
        .map(|s| (s.name, format!("smtp.{}", s.name)))
        .collect()
});

fn full_name(name: &str) -> Option<&'static str> {
    FULL_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| f.as_str())
}

/// The value of any ini directive (full name, e.g. `sendmail_from`).
pub fn get(name: &str) -> Option<String> {
    zend::with_ini(|get| get(name, false))
}

/// As `get`, but `None` for an empty value too, and no copy then (mail.log and
/// mail.force_extra_parameters, read on every `mail()` call, are usually empty).
pub fn get_nonempty(name: &str) -> Option<String> {
    zend::with_ini_value(name, |v| {
        v.filter(|v| !v.is_empty())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    })
}

pub fn bool(name: &str) -> bool {
    // The value read in place, not copied: bytes that are not UTF-8 are not "on" either.
    zend::with_ini_value(name, |v| {
        v.and_then(|v| std::str::from_utf8(v).ok())
            .is_some_and(truthy_text)
    })
}

/// "1", "on", "yes" or "true", in any case, with white space around.
fn truthy_text(v: &str) -> bool {
    let v = v.trim();
    ["1", "on", "yes", "true"]
        .iter()
        .any(|t| v.eq_ignore_ascii_case(t))
}

/// `smtp.override_mail`, read per call: FPM applies `php_admin_value` after startup.
pub fn override_mail() -> bool {
    bool("smtp.override_mail")
}

/// The effective settings: `smtp.*` ini values overlaid by a script's per-call options array.
pub fn settings(options: &[(String, Value)]) -> Result<Settings, Error> {
    settings_for(options, Caller::Script)
}

/// As `settings`, for the given caller.
///
/// Resolving reads every `smtp.*` value, parses and checks them (about 40,000 instructions a
/// call, a third of a pooled `mail()`): a script's call with the same options, while no value
/// changed, gets the last call's settings again. Not kept: what reads a file or the
/// environment at each call (`*_file`, `*_env` secrets) and the command line's calls.
pub fn settings_for(options: &[(String, Value)], caller: Caller) -> Result<Settings, Error> {
    shared_settings_for(options, caller).map(Rc::unwrap_or_clone)
}

/// As `settings`, shared with the memo instead of copied (a copy of every setting was about
/// 2,000 instructions of a pooled `mail()`).
pub fn shared_settings(options: &[(String, Value)]) -> Result<Rc<Settings>, Error> {
    shared_settings_for(options, Caller::Script)
}

fn shared_settings_for(options: &[(String, Value)], caller: Caller) -> Result<Rc<Settings>, Error> {
    let changes = CHANGES.load(Ordering::Acquire);
    if caller == Caller::Script {
        let hit = MEMO.with(|m| {
            m.borrow()
                .as_ref()
                .filter(|m| m.changes == changes && m.caller == caller && m.options == options)
                .filter(|m| {
                    m.hostname
                        .as_ref()
                        .is_none_or(|h| *h == config::system_hostname())
                })
                .map(|m| Rc::clone(&m.settings))
        });
        if let Some(settings) = hit {
            return Ok(settings);
        }
    }
    let (settings, reads_secrets) = resolve(options, caller);
    let settings = Rc::new(settings?);
    if caller == Caller::Script && !reads_secrets {
        let hostname = config::system_hostname();
        let hostname =
            (settings.idhost == hostname || settings.localhost == hostname).then_some(hostname);
        MEMO.with(|m| {
            *m.borrow_mut() = Some(Memo {
                changes,
                caller,
                options: options.to_vec(),
                hostname,
                settings: Rc::clone(&settings),
            })
        });
    }
    Ok(settings)
}

/// Where a secret is read from a file or the environment at each resolution.
const SECRET_SOURCES: &[&str] = &[
    "password_file",
    "password_env",
    "oauth_client_secret_file",
    "oauth_client_secret_env",
];

/// The settings from the ini values and `options`, and whether resolving them read a secret's
/// file or variable (then they are not kept for the next call).
fn resolve(options: &[(String, Value)], caller: Caller) -> (Result<Settings, Error>, bool) {
    zend::with_ini(|get| {
        struct Reader<'a>(&'a dyn Fn(&str, bool) -> Option<String>);
        impl config::Ini for Reader<'_> {
            fn get(&self, name: &str) -> Option<String> {
                let shown = full_name(name).and_then(|f| (self.0)(f, false));
                // An empty hidden entry: the administrator's secret, if there is one.
                match shown {
                    Some(v) if HIDDEN.contains(&name) && v.is_empty() => admin_value(name),
                    shown => shown,
                }
            }
            fn admin(&self, name: &str) -> Option<String> {
                admin_value(name)
            }
        }
        let reader = Reader(get);
        let reads_secrets = SECRET_SOURCES.iter().any(|name| {
            config::Ini::get(&reader, name).is_some_and(|v| !v.trim().is_empty())
                || options
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case(name) && *v != Value::Null)
        });
        (
            Settings::resolve_for(&reader, options, caller),
            reads_secrets,
        )
    })
}

/// Values are validated when used (with a message naming the setting), so any value is
/// accepted here, except an administrator's secret, which is kept out of PHP's sight (see the
/// module comment). Without an on_modify handler PHP refuses ini_restore() at run time.
unsafe extern "C" fn on_modify(
    entry: *mut zend_ini_entry,
    new_value: *mut zend_string,
    _arg1: *mut c_void,
    _arg2: *mut c_void,
    _arg3: *mut c_void,
    stage: c_int,
) -> c_int {
    const SUCCESS: c_int = 0;
    const FAILURE: c_int = -1;
    // SAFETY: the pointers PHP passed to this handler.
    let change = unsafe { zend::ini_change(entry, new_value) };
    zend::guard("an ini setting", SUCCESS, move || {
        let (Some(change), Some(stage)) = (change, IniStage::from_raw(stage)) else {
            return SUCCESS;
        };
        changed();
        let full = change.name.clone();
        let name = full.strip_prefix("smtp.").unwrap_or(&full);
        if record(name, change, stage) {
            SUCCESS
        } else {
            FAILURE
        }
    })
}

/// phpinfo() shows a secret as stars (or "no value"), never the value.
unsafe extern "C" fn display_masked(entry: *mut zend_ini_entry, display_type: c_int) {
    zend::guard("phpinfo()", (), || {
        // SAFETY: PHP passes the entry being displayed.
        let value = unsafe { zend::displayed_value(entry, display_type) };
        // SAFETY: as above.
        let name = unsafe { zend::ini_entry_name(entry) };
        let admins = name
            .and_then(|n| admin_value(n.strip_prefix("smtp.").unwrap_or(&n)))
            .is_some_and(|v| !v.is_empty());
        let set = admins || value.is_some_and(|v| !v.is_empty());
        ext_php_rs::php_print!("{}", if set { "********" } else { "no value" });
    });
}

/// Registers the entries. The table must live for the whole process (PHP keeps pointers).
pub fn register(module_number: i32) {
    static TABLE: Lazy<Defs> = Lazy::new(|| {
        let leak = |s: String| -> &'static CStr {
            Box::leak(CString::new(s).unwrap_or_default().into_boxed_c_str())
        };
        let mut defs: Vec<IniEntryDef> = config::SETTINGS
            .iter()
            .map(|s| {
                let permission = match s.scope {
                    Scope::System => IniEntryPermission::System,
                    Scope::Call | Scope::Request => IniEntryPermission::All,
                };
                let mut def = IniEntryDef::new(
                    leak(format!("smtp.{}", s.name)),
                    leak(s.default.to_string()),
                    permission,
                );
                def.on_modify = Some(on_modify);
                if HIDDEN.contains(&s.name) {
                    def.displayer = Some(display_masked);
                }
                def
            })
            .collect();
        defs.push(IniEntryDef::end());
        Defs(defs)
    });
    IniEntryDef::register(TABLE.0.as_slice(), module_number);
}

/// The entry definitions, made once and kept for the process.
struct Defs(Vec<IniEntryDef>);

// SAFETY: the definitions hold pointers to leaked, immutable C strings and to functions; they
// are written once (Lazy) and PHP only reads them.
unsafe impl Sync for Defs {}
unsafe impl Send for Defs {}
