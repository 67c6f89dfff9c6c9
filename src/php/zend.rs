//! Every raw call into the Zend engine and PHP, each with its SAFETY line. The rest of the
//! binding uses the safe functions here (or ext-php-rs's own safe API).
//!
//! The engine functions declared below are exported by the PHP binary (PHPAPI / ZEND_API) and
//! resolved by the dynamic loader when the extension is loaded; ext-php-rs's bindings do not
//! include them. ZEND_FASTCALL is the plain C convention on x86-64 and aarch64.

use std::ffi::{c_char, c_int, c_uint, CStr, CString};
use std::panic::UnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};

use ext_php_rs::boxed::ZBox;
use ext_php_rs::ffi::{
    self, zend_execute_data, zend_function, zend_ini_entry, zend_string, zval, HashTable,
};
use ext_php_rs::types::{ZendStr, Zval};
use ext_php_rs::zend::{ExecutorGlobals, ModuleEntry};

extern "C" {
    fn zend_parse_parameters(num_args: u32, type_spec: *const c_char, ...) -> c_int;
    fn zend_wrong_parameter_type_error(num: u32, expected_type: c_uint, arg: *mut zval);
    fn zend_argument_value_error(arg_num: u32, format: *const c_char, ...);
    fn zend_get_executed_filename() -> *const c_char;
    fn zend_get_executed_lineno() -> u32;
    fn zend_unregister_ini_entries(module_number: c_int);
    fn php_mail_build_headers(headers: *mut HashTable) -> *mut zend_string;
    fn php_format_date(
        format: *const c_char,
        format_len: usize,
        ts: libc::time_t,
        localtime: bool,
    ) -> *mut zend_string;
    fn php_syslog(priority: c_int, format: *const c_char, ...);
    fn php_log_err_with_severity(message: *const c_char, syslog_type: c_int);
    fn display_ini_entries(module: *mut ModuleEntry);
    // PHP 8.5 and older: the converted string in *dest, `true` on success.
    #[link_name = "zend_parse_arg_str_slow"]
    fn zend_parse_arg_str_slow_85(
        arg: *mut zval,
        dest: *mut *mut zend_string,
        arg_num: u32,
    ) -> bool;
}

// PHP 8.6 returns the converted string (NULL on failure) and lost the `dest` parameter: the
// same symbol, another signature, called only when built against 8.6 (array_or_string_arg).
#[allow(clashing_extern_declarations)]
extern "C" {
    #[link_name = "zend_parse_arg_str_slow"]
    fn zend_parse_arg_str_slow_86(arg: *mut zval, arg_num: u32) -> *mut zend_string;
}

/// PHP 8.5's module API number: anything newer has PHP 8.6's zend_parse_arg_str_slow().
const PHP_85_API: u32 = 20250925;

const E_WARNING: c_int = 1 << 1;
const LOG_NOTICE: c_int = 5;

/// C strings from Rust text: a NUL byte cannot end the string early, it is shown as `\0`.
fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Entry points called by the engine

/// Runs the body of an `extern "C"` function the engine calls (phpinfo, ini displayers,
/// startup, shutdown): a Rust panic stays on this side and `fallback` is returned; a
/// `zend_bailout` (fatal error) inside passes through to the engine's own handler.
pub fn guard<R>(what: &str, fallback: R, f: impl FnOnce() -> R + UnwindSafe) -> R {
    match ext_php_rs::zend::try_catch(f) {
        Ok(r) => r,
        // SAFETY: re-raises the bailout that happened inside, to the engine's enclosing
        // zend_try, as if we had not been there.
        Err(ext_php_rs::zend::CatchError::Bailout) => unsafe { ext_php_rs::zend::bailout() },
        Err(e) => {
            log_error(&format!("smtp: internal error in {what}: {e}"));
            fallback
        }
    }
}

/// PHP's error_log.
pub fn log_error(message: &str) {
    let c = c_text(message);
    // SAFETY: a NUL-terminated message; called on a request or startup thread.
    unsafe { php_log_err_with_severity(c.as_ptr(), LOG_NOTICE) };
}

/// An E_WARNING from the running function ("mail(): ..." for mail()).
pub fn warning(message: &str) {
    let c = c_text(message);
    // SAFETY: format "%s" with a NUL-terminated string; php_error_docref prefixes the name of
    // the running function.
    unsafe { ffi::php_error_docref(std::ptr::null(), E_WARNING, c"%s".as_ptr(), c.as_ptr()) };
}

/// The script and line running now.
pub fn executed_location() -> (String, u32) {
    // SAFETY: valid during a function call; returns a NUL-terminated string owned by the engine.
    unsafe {
        let f = zend_get_executed_filename();
        let file = if f.is_null() {
            String::new()
        } else {
            CStr::from_ptr(f).to_string_lossy().into_owned()
        };
        (file, zend_get_executed_lineno())
    }
}

/// Whether PHP runs on the command line (the CLI SAPI), not in a web server.
pub fn is_cli() -> bool {
    let sapi = ext_php_rs::zend::SapiModule::get();
    // SAFETY: the SAPI's name is a static NUL-terminated string set before any module starts.
    unsafe { sapi.name.as_ref() }
        // SAFETY: as above.
        .map(|_| unsafe { CStr::from_ptr(sapi.name) }.to_bytes() == b"cli")
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// ini directives

/// `zend_ini_entry.modified` is a `uint8_t` up to PHP 8.5 and a `bool` from PHP 8.6: one way
/// to read it that builds against both.
trait IniFlag {
    fn to_bool(self) -> bool;
}
impl IniFlag for u8 {
    fn to_bool(self) -> bool {
        self != 0
    }
}
impl IniFlag for bool {
    fn to_bool(self) -> bool {
        self
    }
}

/// Reads ini directives straight from `EG(ini_directives)`: cheap enough for every call, which
/// is what makes per-request values (FPM `php_admin_value`, `ini_set`) work. `admin` = the
/// value before any runtime change (php.ini, `php_admin_value`).
pub fn with_ini<T>(f: impl FnOnce(&dyn Fn(&str, bool) -> Option<String>) -> T) -> T {
    let globals = ExecutorGlobals::get();
    // SAFETY: `EG(ini_directives)` is set up at engine startup and lives until shutdown; the
    // globals guard keeps it from being replaced while we read.
    let table = unsafe { globals.ini_directives.as_ref() };
    let get = |name: &str, admin: bool| -> Option<String> {
        let entry = table?.get(name)?;
        // SAFETY: the table stores `zend_ini_entry *` as pointer zvals (zend_hash_add_ptr); the
        // entry's strings are zend_strings or null.
        unsafe {
            let entry = entry.ptr::<zend_ini_entry>()?.as_ref()?;
            let value = if admin && entry.modified.to_bool() {
                entry.orig_value.as_ref()
            } else {
                entry.value.as_ref()
            };
            value.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        }
    };
    f(&get)
}

/// One directive's current value as PHP's bytes, borrowed for `f` (no copy: for the flags read
/// on every `mail()` call).
pub fn with_ini_value<T>(name: &str, f: impl FnOnce(Option<&[u8]>) -> T) -> T {
    let globals = ExecutorGlobals::get();
    // SAFETY: as in `with_ini`: the table lives until shutdown, the guard keeps it in place
    // while `f` runs, and its entries hold `zend_ini_entry *` whose value is a zend_string or
    // null.
    let value = unsafe {
        globals
            .ini_directives
            .as_ref()
            .and_then(|table| table.get(name))
            .and_then(|entry| entry.ptr::<zend_ini_entry>()?.as_ref()?.value.as_ref())
            .map(|v| v.as_bytes())
    };
    f(value)
}

/// When PHP calls an ini entry's on_modify handler (`ZEND_INI_STAGE_*` in Zend/zend_ini.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IniStage {
    /// Module startup: php.ini, `-d`.
    Startup,
    Shutdown,
    /// Request start: php.ini `[PATH=]`/`[HOST=]` sections, Apache's `php_value` and
    /// `php_admin_value` from the server configuration (each for that request); and PHP-FPM's
    /// pool `php_value`/`php_admin_value` and FastCGI `PHP_VALUE`/`PHP_ADMIN_VALUE`, which FPM
    /// applies with this stage as the worker's own values.
    Activate,
    /// Request end: a changed entry is set back.
    Deactivate,
    /// `ini_set()`, `ini_restore()`.
    Runtime,
    /// `.user.ini`, `.htaccess`: files the site owner writes.
    Htaccess,
}

impl IniStage {
    pub fn from_raw(stage: c_int) -> Option<IniStage> {
        Some(match stage {
            1 => IniStage::Startup,
            2 => IniStage::Shutdown,
            4 => IniStage::Activate,
            8 => IniStage::Deactivate,
            16 => IniStage::Runtime,
            32 => IniStage::Htaccess,
            _ => return None,
        })
    }
}

/// What an on_modify handler is told about a change.
pub struct IniChange {
    /// The entry's full name, e.g. `smtp.password`.
    pub name: String,
    pub value: Option<String>,
    /// The new value is the very string the entry holds now: PHP only re-announces it (right
    /// after a handler refused a startup value, registration keeps the default; a ZTS thread
    /// refreshing its caches). That is no one setting anything.
    pub restated: bool,
    /// The entry is changed for this request only (PHP keeps the value to set back at the end).
    /// Unchanged: the new value becomes the process's own, as PHP-FPM's pool and FastCGI
    /// values do, which FPM applies once per worker at the activation stage.
    pub for_request: bool,
}

/// What an on_modify handler is told.
///
/// # Safety
/// `entry` and `new_value` are the pointers PHP passed to the on_modify handler.
pub unsafe fn ini_change(
    entry: *mut zend_ini_entry,
    new_value: *mut zend_string,
) -> Option<IniChange> {
    // SAFETY: PHP passes its entry (name always set) and the new value, a zend_string or null.
    // zend_alter_ini_entry_ex marks the entry modified before it calls the handler.
    unsafe {
        let e = entry.as_ref()?;
        Some(IniChange {
            name: String::from_utf8_lossy(e.name.as_ref()?.as_bytes()).into_owned(),
            value: new_value
                .as_ref()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            restated: std::ptr::eq(new_value, e.value),
            for_request: e.modified.to_bool(),
        })
    }
}

/// The name of an ini entry (e.g. `smtp.password`).
///
/// # Safety
/// `entry` is a pointer PHP passed to an ini handler or displayer.
pub unsafe fn ini_entry_name(entry: *mut zend_ini_entry) -> Option<String> {
    // SAFETY: PHP's entry; its name is a zend_string.
    unsafe {
        let name = entry.as_ref()?.name.as_ref()?;
        Some(String::from_utf8_lossy(name.as_bytes()).into_owned())
    }
}

/// The value shown for an ini entry in phpinfo(): the current one, or for the master column
/// the value php.ini set, as PHP's own displayer does.
///
/// # Safety
/// `entry` is the pointer PHP passes to an ini displayer.
pub unsafe fn displayed_value(entry: *mut zend_ini_entry, display_type: c_int) -> Option<String> {
    const ZEND_INI_DISPLAY_ORIG: c_int = 1;
    // SAFETY: the caller passes PHP's entry; its values are zend_strings or null.
    unsafe {
        entry.as_ref().and_then(|e| {
            let v = if display_type == ZEND_INI_DISPLAY_ORIG && e.modified.to_bool() {
                e.orig_value.as_ref()
            } else {
                e.value.as_ref()
            };
            v.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        })
    }
}

/// Removes this module's ini entries (module shutdown), so a module loaded with dl() leaves
/// no entries pointing into unloaded code.
pub fn unregister_ini_entries(module_number: i32) {
    // SAFETY: MSHUTDOWN of the module that registered the entries.
    unsafe { zend_unregister_ini_entries(module_number) };
}

// ---------------------------------------------------------------------------------------------
// phpinfo()

pub fn info_table_start() {
    // SAFETY: called while PHP builds phpinfo().
    unsafe { ffi::php_info_print_table_start() };
}

pub fn info_table_end() {
    // SAFETY: as above.
    unsafe { ffi::php_info_print_table_end() };
}

/// One row; NUL bytes in values are shown as `\0` (a NUL cannot end the text early, and
/// `CString::new` cannot fail).
pub fn info_row(name: &str, value: &str) {
    let (n, v) = (c_text(name), c_text(value));
    // SAFETY: two NUL-terminated strings, with their count.
    unsafe { ffi::php_info_print_table_row(2, n.as_ptr(), v.as_ptr()) };
}

/// PHP's own table of a module's ini entries.
///
/// # Safety
/// `module` is the entry PHP passed to the MINFO function.
pub unsafe fn info_ini_entries(module: *mut ModuleEntry) {
    // SAFETY: see above.
    unsafe { display_ini_entries(module) };
}

// ---------------------------------------------------------------------------------------------
// mail()

pub type Handler = unsafe extern "C" fn(*mut zend_execute_data, *mut zval);

/// PHP's own `mail()` handler (0 when not installed).
static ORIGINAL: AtomicUsize = AtomicUsize::new(0);

unsafe fn mail_function() -> Option<&'static mut zend_function> {
    // SAFETY: called at module startup/shutdown, when the compiler globals and the function
    // table exist and no request runs.
    unsafe {
        let cg = ffi::ext_php_rs_compiler_globals();
        let table = cg.as_ref()?.function_table;
        let f = ffi::zend_hash_str_find_ptr_lc(table, c"mail".as_ptr(), 4) as *mut zend_function;
        f.as_mut()
    }
}

/// Puts `handler` in `mail()`'s place (see mail_override).
pub fn install_mail_handler(handler: Handler) {
    // SAFETY: MINIT runs single-threaded before any request; `mail` is an internal function,
    // so `internal_function` is the active union member.
    unsafe {
        let Some(f) = mail_function() else { return };
        if let Some(orig) = f.internal_function.handler {
            ORIGINAL.store(orig as usize, Ordering::SeqCst);
            f.internal_function.handler = Some(handler);
        }
    }
}

/// Gives `mail()` its own handler back. Matters when the module was loaded with dl() and its
/// code is unmapped after shutdown.
pub fn restore_mail_handler() {
    let orig = ORIGINAL.swap(0, Ordering::SeqCst);
    if orig == 0 {
        return;
    }
    // SAFETY: MSHUTDOWN; `orig` was read from the same slot by `install_mail_handler`.
    unsafe {
        if let Some(f) = mail_function() {
            f.internal_function.handler = Some(std::mem::transmute::<usize, Handler>(orig));
        }
    }
}

/// Runs PHP's own `mail()` for this call.
///
/// # Safety
/// `ex` and `retval` are the engine's arguments of the running `mail()` call.
pub unsafe fn call_original_mail(ex: *mut zend_execute_data, retval: *mut zval) {
    let orig = ORIGINAL.load(Ordering::SeqCst);
    if orig != 0 {
        // SAFETY: the original handler, with the arguments PHP gave us (caller's contract).
        unsafe { std::mem::transmute::<usize, Handler>(orig)(ex, retval) };
    }
}

/// Sets the return value of the running call.
///
/// # Safety
/// `retval` is the running call's return value slot (or null).
pub unsafe fn set_return_bool(retval: *mut zval, value: bool) {
    // SAFETY: caller's contract.
    if let Some(rv) = unsafe { retval.as_mut() } {
        rv.set_bool(value);
    }
}

/// `mail()`'s arguments as `zend_parse_parameters("ppp|zp")` gives them (`Z_PARAM_PATH` x3,
/// the headers zval, `Z_PARAM_PATH`): the same TypeError, ValueError, deprecation and coercion
/// as PHP's own `mail()`. The strings are borrowed from the call.
pub struct MailParameters<'a> {
    pub to: &'a [u8],
    pub subject: &'a [u8],
    pub message: &'a [u8],
    pub headers: Option<&'a mut Zval>,
    pub params: Option<&'a [u8]>,
}

/// `None` when PHP threw.
///
/// # Safety
/// `ex` is the frame of the running `mail()` call, and the result is dropped before it returns.
pub unsafe fn parse_mail_parameters<'a>(ex: *mut zend_execute_data) -> Option<MailParameters<'a>> {
    let (mut to, mut to_len) = (std::ptr::null::<c_char>(), 0usize);
    let (mut subject, mut subject_len) = (std::ptr::null::<c_char>(), 0usize);
    let (mut message, mut message_len) = (std::ptr::null::<c_char>(), 0usize);
    let mut headers: *mut zval = std::ptr::null_mut();
    let (mut params, mut params_len) = (std::ptr::null::<c_char>(), 0usize);
    // SAFETY: `ex` is the running call's frame; the pointers receive values PHP owns for the
    // duration of the call ("p": NUL-free strings; "z": the zval as passed).
    let parsed = unsafe {
        zend_parse_parameters(
            (*ex).This.u2.num_args,
            c"ppp|zp".as_ptr(),
            &mut to,
            &mut to_len,
            &mut subject,
            &mut subject_len,
            &mut message,
            &mut message_len,
            &mut headers,
            &mut params,
            &mut params_len,
        )
    };
    if parsed != 0 {
        return None;
    }
    let bytes = |p: *const c_char, len: usize| -> &'a [u8] {
        if p.is_null() {
            &[]
        } else {
            // SAFETY: PHP gave a pointer to `len` bytes, alive for the call.
            unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
        }
    };
    Some(MailParameters {
        to: bytes(to, to_len),
        subject: bytes(subject, subject_len),
        message: bytes(message, message_len),
        // SAFETY: null, or the 4th argument's zval, alive for the call.
        headers: unsafe { headers.as_mut() },
        params: (!params.is_null()).then(|| bytes(params, params_len)),
    })
}

/// PHP's own `php_mail_build_headers()`: an array of headers as one string, with PHP's checks
/// and errors. `Err(())` when it threw; `Ok(None)` when it gave nothing.
pub fn mail_build_headers(ht: &HashTable) -> Result<Option<Vec<u8>>, ()> {
    // SAFETY: an array argument; php_mail_build_headers reads it and returns a new string (or
    // NULL with an exception thrown).
    let built = unsafe { php_mail_build_headers(std::ptr::from_ref(ht).cast_mut()) };
    // SAFETY: null or a new zend_string we own; freed when the box drops.
    let built = (!built.is_null()).then(|| unsafe { ZBox::from_raw(built.cast::<ZendStr>()) });
    if ExecutorGlobals::has_exception() {
        return Err(());
    }
    Ok(built.map(|b| b.as_bytes().to_vec()))
}

/// `Z_PARAM_STR`'s conversion of a non-string argument `num` (int, float, bool, null with its
/// deprecation, Stringable), or its TypeError for `array|string`. `None` when PHP threw.
pub fn array_or_string_arg(z: &mut Zval, num: u32) -> Option<Vec<u8>> {
    let mut out: *mut zend_string = std::ptr::null_mut();
    // SAFETY: the argument zval; on success `out` points to the converted string, owned by the
    // zval. The declaration called is the one of the PHP the module is built against.
    let ok = unsafe {
        if ffi::ZEND_MODULE_API_NO > PHP_85_API {
            out = zend_parse_arg_str_slow_86(z, num);
            !out.is_null()
        } else {
            zend_parse_arg_str_slow_85(z, &mut out, num)
        }
    };
    if !ok {
        if !ExecutorGlobals::has_exception() {
            // SAFETY: the same error ZPP raises for Z_PARAM_ARRAY_HT_OR_STR.
            unsafe {
                zend_wrong_parameter_type_error(
                    num,
                    ffi::_zend_expected_type_Z_EXPECTED_ARRAY_OR_STRING as c_uint,
                    z,
                )
            };
        }
        return None;
    }
    if ExecutorGlobals::has_exception() {
        return None; // a deprecation turned into an exception by an error handler
    }
    // SAFETY: set by zend_parse_arg_str_slow on success (PHP 8.5 and older may leave it null).
    Some(match unsafe { out.cast::<ZendStr>().as_ref() } {
        Some(s) => s.as_bytes().to_vec(),
        None => Vec::new(),
    })
}

/// PHP's ValueError for argument `num`, with a fixed message.
pub fn argument_value_error(num: u32, message: &CStr) {
    // SAFETY: format "%s" with a NUL-terminated message (a '%' in it stays text).
    unsafe { zend_argument_value_error(num, c"%s".as_ptr(), message.as_ptr()) };
}

/// Gives the parameters of one of our functions their real types in Reflection (and so in
/// stubs and IDEs). ext-php-rs declares a `&Zval` parameter as `mixed` and cannot declare a
/// union such as `array|string`; the functions check their arguments themselves either way.
/// `types[i]` is a `MAY_BE_*` mask for parameter i, 0 to leave it.
pub fn narrow_parameter_types(function: &str, types: &[u32]) {
    // SAFETY: MINIT, single-threaded; the function table holds our registered functions, whose
    // arg_info (the engine's own copy for typed functions) has num_args entries, the first
    // argument at index 0.
    unsafe {
        let cg = ffi::ext_php_rs_compiler_globals();
        let Some(table) = cg.as_ref().map(|cg| cg.function_table) else {
            return;
        };
        let f = ffi::zend_hash_str_find_ptr_lc(
            table,
            function.as_ptr().cast::<c_char>(),
            function.len(),
        ) as *mut zend_function;
        let Some(f) = f.as_mut() else { return };
        let internal = &mut f.internal_function;
        if internal.arg_info.is_null() {
            return;
        }
        let n = (internal.num_args as usize).min(types.len());
        for (i, &mask) in types.iter().enumerate().take(n) {
            let arg = &mut *internal.arg_info.add(i);
            // Only a plain `mixed` (no class name) is narrowed.
            if mask != 0
                && arg.type_.ptr.is_null()
                && arg.type_.type_mask & ffi::MAY_BE_ANY == ffi::MAY_BE_ANY
            {
                arg.type_.type_mask = (arg.type_.type_mask & !ffi::MAY_BE_ANY) | mask;
            }
        }
    }
}

/// The date as PHP's own mail.log writes it: `date("d-M-Y H:i:s e")` in date.timezone.
pub fn mail_log_date() -> String {
    let now = crate::sys::now();
    let format = c"d-M-Y H:i:s e";
    // SAFETY: a NUL-terminated format with its length; returns a new string we own.
    let s = unsafe { php_format_date(format.as_ptr(), format.count_bytes(), now, true) };
    if s.is_null() {
        return String::new();
    }
    // SAFETY: a new zend_string we own; freed when the box drops.
    let s = unsafe { ZBox::from_raw(s.cast::<ZendStr>()) };
    String::from_utf8_lossy(s.as_bytes()).into_owned()
}

/// To syslog, as PHP's own mail.log=syslog does (honouring syslog.ident and facility).
pub fn syslog_notice(line: &str) {
    let c = c_text(line);
    // SAFETY: format "%s" with a NUL-terminated string.
    unsafe { php_syslog(LOG_NOTICE, c"%s".as_ptr(), c.as_ptr()) };
}

// ---------------------------------------------------------------------------------------------
// Exceptions

/// Sets a public property of the exception PHP is about to throw (the one pending in
/// `EG(exception)`).
pub fn set_pending_exception_property(name: &str, values: &[String]) {
    let globals = ExecutorGlobals::get();
    // SAFETY: EG(exception) is null or the pending exception object, alive while pending.
    let Some(obj) = (unsafe { globals.exception.as_mut() }) else {
        return;
    };
    let _ = obj.set_property(name, values.to_vec());
}
