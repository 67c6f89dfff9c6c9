//! The `smtp.*` ini entries: registered from `config::SETTINGS` (one list of names, defaults
//! and who may set them, for the code and for PHP), read on every call, and shown by phpinfo()
//! with the password masked.

use std::ffi::{c_int, c_void, CStr, CString};

use ext_php_rs::ffi::{zend_ini_entry, zend_string};
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::IniEntryDef;
use once_cell::sync::Lazy;

use super::zend;
use crate::config::{self, Caller, Scope, Settings, Value};
use crate::error::Error;

/// The settings shown as stars in phpinfo().
const MASKED: &[&str] = &["password", "oauth_client_secret"];

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

fn truthy(v: Option<String>) -> bool {
    matches!(
        v.map(|v| v.trim().to_ascii_lowercase()).as_deref(),
        Some("1" | "on" | "yes" | "true")
    )
}

pub fn bool(name: &str) -> bool {
    truthy(get(name))
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
pub fn settings_for(options: &[(String, Value)], caller: Caller) -> Result<Settings, Error> {
    zend::with_ini(|get| {
        struct Reader<'a>(&'a dyn Fn(&str, bool) -> Option<String>);
        impl config::Ini for Reader<'_> {
            fn get(&self, name: &str) -> Option<String> {
                full_name(name).and_then(|f| (self.0)(f, false))
            }
            fn admin(&self, name: &str) -> Option<String> {
                full_name(name).and_then(|f| (self.0)(f, true))
            }
        }
        Settings::resolve_for(&Reader(get), options, caller)
    })
}

/// Values are validated when used (with a message naming the setting), so any string is
/// accepted here. Without an on_modify handler PHP refuses ini_restore() at run time.
unsafe extern "C" fn accept_any_value(
    _entry: *mut zend_ini_entry,
    _new_value: *mut zend_string,
    _arg1: *mut c_void,
    _arg2: *mut c_void,
    _arg3: *mut c_void,
    _stage: c_int,
) -> c_int {
    0
}

/// phpinfo() shows a secret as stars (or "no value"), never the value.
unsafe extern "C" fn display_masked(entry: *mut zend_ini_entry, display_type: c_int) {
    zend::guard("phpinfo()", (), || {
        // SAFETY: PHP passes the entry being displayed.
        let value = unsafe { zend::displayed_value(entry, display_type) };
        let set = value.is_some_and(|v| !v.is_empty());
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
                def.on_modify = Some(accept_any_value);
                if MASKED.contains(&s.name) {
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
