//! Replacing PHP's `mail()` handler, and back. All raw Zend calls of the extension live here.
//!
//! The handler is swapped once at module startup; whether a call goes through SMTP is decided
//! per call from `smtp.override_mail`, because FPM applies `php_admin_value` after startup.
//! With the switch off the call goes to PHP's original handler untouched.

use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use ext_php_rs::ffi::{self, zend_execute_data, zend_function, zval};
use ext_php_rs::types::Zval;

use crate::message::{sanitize_line, Draft, Header};
use crate::php::{headers_arg, ini_bool, ini_get, settings};
use crate::pool;

// Engine functions outside ext-php-rs's bindings; the PHP binary exports them and the dynamic
// loader resolves them when the extension is loaded.
extern "C" {
    fn zend_parse_parameters(num_args: u32, type_spec: *const c_char, ...) -> c_int;
    fn zend_get_executed_filename() -> *const c_char;
    fn zend_get_executed_lineno() -> u32;
}

const E_WARNING: c_int = 1 << 1;

type Handler = unsafe extern "C" fn(*mut zend_execute_data, *mut zval);

/// PHP's own `mail()` handler (0 when not installed).
static ORIGINAL: AtomicUsize = AtomicUsize::new(0);

unsafe fn mail_function() -> Option<&'static mut zend_function> {
    // SAFETY: called at module startup/shutdown, when the compiler globals and the function
    // table exist and no request runs.
    let cg = ffi::ext_php_rs_compiler_globals();
    let table = cg.as_ref()?.function_table;
    let f = ffi::zend_hash_str_find_ptr_lc(table, c"mail".as_ptr(), 4) as *mut zend_function;
    f.as_mut()
}

pub fn install() {
    // SAFETY: MINIT runs single-threaded before any request; `mail` is an internal function,
    // so `internal_function` is the active union member.
    unsafe {
        let Some(f) = mail_function() else { return };
        if let Some(orig) = f.internal_function.handler {
            ORIGINAL.store(orig as usize, Ordering::SeqCst);
            f.internal_function.handler = Some(mail_handler);
        }
    }
}

pub fn restore() {
    let orig = ORIGINAL.swap(0, Ordering::SeqCst);
    if orig == 0 {
        return;
    }
    // SAFETY: MSHUTDOWN; `orig` was read from the same slot by `install`. Restoring matters
    // when the module was loaded with dl() and its code is unmapped after shutdown.
    unsafe {
        if let Some(f) = mail_function() {
            f.internal_function.handler = Some(std::mem::transmute::<usize, Handler>(orig));
        }
    }
}

unsafe extern "C" fn mail_handler(ex: *mut zend_execute_data, retval: *mut zval) {
    if !ini_bool("smtp.override_mail") {
        let orig = ORIGINAL.load(Ordering::SeqCst);
        if orig != 0 {
            // SAFETY: the original handler, with the arguments PHP gave us.
            std::mem::transmute::<usize, Handler>(orig)(ex, retval);
        }
        return;
    }
    // A Rust panic must not unwind into the engine: report it as mail()'s failure instead.
    let result = catch_unwind(AssertUnwindSafe(|| smtp_mail(ex)));
    let ok = match result {
        Ok(Some(Ok(()))) => true,
        Ok(Some(Err(msg))) => {
            warn(&msg);
            false
        }
        // Argument errors: PHP already has an exception pending and mail() returns nothing.
        Ok(None) => return,
        Err(_) => {
            warn("internal error in the smtp extension; the message was not sent");
            false
        }
    };
    if let Some(rv) = retval.as_mut() {
        rv.set_bool(ok);
    }
}

fn warn(msg: &str) {
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: format "%s" with a NUL-terminated string; php_error_docref prefixes "mail(): ".
    unsafe { ffi::php_error_docref(std::ptr::null(), E_WARNING, c"%s".as_ptr(), msg.as_ptr()) };
}

fn executed_location() -> (String, u32) {
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

/// `None` when argument parsing failed (an exception is pending), else the outcome.
unsafe fn smtp_mail(ex: *mut zend_execute_data) -> Option<Result<(), String>> {
    let (mut to, mut to_len) = (std::ptr::null::<c_char>(), 0usize);
    let (mut subject, mut subject_len) = (std::ptr::null::<c_char>(), 0usize);
    let (mut message, mut message_len) = (std::ptr::null::<c_char>(), 0usize);
    let mut headers: *mut zval = std::ptr::null_mut();
    let (mut params, mut params_len) = (std::ptr::null::<c_char>(), 0usize);
    let num_args = (*ex).This.u2.num_args;
    // The same argument rules as PHP's own mail(): strings without NUL bytes ("p"), weak or
    // strict typing as the caller declared, ArgumentCountError/TypeError from the engine.
    let parsed = zend_parse_parameters(
        num_args,
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
    );
    if parsed != 0 {
        return None;
    }
    let bytes = |p: *const c_char, len: usize| -> Vec<u8> {
        if p.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec()
        }
    };
    let lossy = |p, len| String::from_utf8_lossy(&bytes(p, len)).into_owned();
    let to = lossy(to, to_len);
    let subject = lossy(subject, subject_len);
    let body = bytes(message, message_len);
    let headers_zv: Option<&Zval> = headers.as_ref();
    let mut headers = match headers_arg(headers_zv, "mail", 4) {
        Ok(h) => h,
        Err(e) => {
            // Array header errors are exceptions in PHP's mail() too; a bad string block is a
            // warning and false there.
            if headers_zv.is_some_and(|z| z.is_string()) {
                return Some(Err(e.message().replace("mail(): ", "")));
            }
            ext_php_rs::exception::PhpException::from(e).throw();
            return None;
        }
    };
    let params = match ini_get("mail.force_extra_parameters").filter(|p| !p.is_empty()) {
        Some(forced) => forced,
        None => lossy(params, params_len),
    };

    let (file, line) = executed_location();
    if let Some(log) = ini_get("mail.log").filter(|l| !l.is_empty()) {
        let text = match headers_zv.and_then(|z| z.zend_str()) {
            Some(raw) => String::from_utf8_lossy(raw.as_bytes())
                .trim_end()
                .to_string(),
            None => headers
                .iter()
                .map(|h| format!("{}: {}", h.name, h.value))
                .collect::<Vec<_>>()
                .join("\r\n"),
        };
        mail_log(
            &log,
            &file,
            line,
            &sanitize_line(&to),
            &text,
            &sanitize_line(&subject),
        );
    }
    if ini_bool("mail.add_x_header") {
        let base = file.rsplit('/').next().unwrap_or("");
        headers.push(Header::new(
            "X-PHP-Originating-Script",
            format!("{}:{}", script_owner(&file), base),
        ));
    }

    Some(send(to, subject, body, headers, &params))
}

fn send(
    to: String,
    subject: String,
    body: Vec<u8>,
    headers: Vec<Header>,
    params: &str,
) -> Result<(), String> {
    let settings = settings(&[]).map_err(|e| e.to_string())?;
    let draft = Draft {
        to,
        subject,
        body,
        headers,
        envelope_from: envelope_from_params(params),
        default_from: ini_get("sendmail_from"),
        idhost: settings.idhost.clone(),
    };
    let prepared = draft.build().map_err(|e| e.to_string())?;
    pool::send(&settings, &prepared).map_err(|e| e.to_string())
}

/// The sender from sendmail-style parameters: `-f addr`, `-faddr`, `-f "addr"`, `-f 'addr'`.
/// Other sendmail options mean nothing over SMTP and are ignored.
pub fn envelope_from_params(params: &str) -> Option<String> {
    let mut words = shell_words(params).into_iter();
    while let Some(w) = words.next() {
        if w == "-f" {
            return words.next().filter(|a| !a.is_empty());
        }
        if let Some(addr) = w.strip_prefix("-f") {
            if !addr.is_empty() {
                return Some(addr.to_string());
            }
        }
    }
    None
}

fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The owner of the running script, as PHP's getmyuid() reports it.
fn script_owner(file: &str) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(file)
        .map(|m| m.uid())
        .unwrap_or_else(|_| {
            // SAFETY: getuid cannot fail.
            unsafe { libc::getuid() }
        })
}

/// `mail.log`: the line PHP's own mail() writes, to a file or to syslog. `headers` is the
/// caller's header text as PHP would log it (before X-PHP-Originating-Script is added).
fn mail_log(target: &str, file: &str, line: u32, to: &str, headers: &str, subject: &str) {
    // PHP turns each CR and LF of the headers into a space, so a log entry is one line.
    let entry = format!(
        "mail() on [{file}:{line}]: To: {to} -- Headers: {} -- Subject: {subject}",
        headers.replace(['\r', '\n'], " ")
    );
    if target == "syslog" {
        if let Ok(c) = CString::new(entry.replace('\0', " ")) {
            // SAFETY: format "%s" with a NUL-terminated string.
            unsafe { libc::syslog(libc::LOG_NOTICE, c"%s".as_ptr(), c.as_ptr()) };
        }
        return;
    }
    // PHP's format is date("d-M-Y H:i:s e"); we write UTC.
    let t = crate::message::UtcTime::of(std::time::SystemTime::now());
    let line = format!(
        "[{:02}-{}-{} {:02}:{:02}:{:02} UTC] {entry}\n",
        t.day,
        t.month_name(),
        t.year,
        t.hour,
        t.minute,
        t.second
    );
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(target)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_f_forms() {
        assert_eq!(envelope_from_params("-f a@b.c").as_deref(), Some("a@b.c"));
        assert_eq!(envelope_from_params("-fa@b.c").as_deref(), Some("a@b.c"));
        assert_eq!(
            envelope_from_params("-odb -f \"a@b.c\"").as_deref(),
            Some("a@b.c")
        );
        assert_eq!(
            envelope_from_params(" -f 'a@b.c'").as_deref(),
            Some("a@b.c")
        );
        assert_eq!(envelope_from_params("-odb"), None);
        assert_eq!(envelope_from_params(""), None);
    }
}
