//! PHP arguments of `smtp_send()` and `smtp_diagnose()` turned into plain values: strings as
//! bytes, the recipients, the headers, and the `$wgSMTP`-shaped options array.

use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ArrayKey, Zval};

use super::errors::ArgError;
use crate::config::Value;
use std::borrow::Cow;

use crate::message::{check_name, check_value, header_text, Header};

fn type_error(msg: String) -> ArgError {
    ArgError::Type(msg)
}

fn value_error(msg: String) -> ArgError {
    ArgError::Value(msg)
}

/// A string argument, as bytes (a mail body need not be UTF-8); scalars convert as PHP would.
pub fn bytes_arg(z: &Zval, pos: u32, name: &str) -> Result<Vec<u8>, ArgError> {
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

/// The body argument, borrowed from PHP when it is a string: the message is built from it
/// without a copy of its own.
pub fn body_arg(z: &Zval) -> Result<Cow<'_, [u8]>, ArgError> {
    let body = match z.zend_str() {
        Some(s) => Cow::Borrowed(s.as_bytes()),
        None => Cow::Owned(bytes_arg(z, 3, "body")?),
    };
    no_nul(&body, 3, "body")?;
    Ok(body)
}

/// A NUL byte has no place in a message (RFC 5322): refused as PHP's own mail() refuses it.
fn no_nul(bytes: &[u8], pos: u32, name: &str) -> Result<(), ArgError> {
    if bytes.contains(&0) {
        return Err(value_error(format!(
            "smtp_send(): Argument #{pos} (${name}) must not contain any null bytes"
        )));
    }
    Ok(())
}

/// A text argument that goes into a header (To, Subject): UTF-8, else a ValueError that says
/// how to convert it (never replaced bytes).
pub fn text_arg(z: &Zval, pos: u32, name: &str) -> Result<String, ArgError> {
    let bytes = bytes_arg(z, pos, name)?;
    no_nul(&bytes, pos, name)?;
    // The argument's name is written only for the error.
    String::from_utf8(bytes).map_err(|e| {
        let e = header_text(e.as_bytes(), &format!("Argument #{pos} (${name})"))
            .err()
            .map_or_else(String::new, |e| e.to_string());
        value_error(format!("smtp_send(): {e}"))
    })
}

pub fn type_name(z: &Zval) -> &'static str {
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

/// `$to`: one string, or an array of address strings.
pub fn recipients_arg(z: &Zval) -> Result<String, ArgError> {
    if let Some(arr) = z.array() {
        let mut parts = Vec::new();
        for (_, v) in arr {
            parts.push(text_arg(v, 1, "to")?);
        }
        return Ok(parts.join(", "));
    }
    if z.zend_str().is_some() {
        return text_arg(z, 1, "to");
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
        // PHP's own check of a header string, as mail() makes it (after its right trim): a
        // block that starts with a line break or holds two in a row (`\r\r` too) is refused
        // whole, not read around.
        let bytes = s.as_bytes();
        let end = bytes
            .iter()
            .rposition(|b| !b" \t\n\r\x0b\0".contains(b))
            .map_or(0, |i| i + 1);
        if crate::mail_compat::has_malformed_newlines(&bytes[..end]) {
            return Err(value_error(format!(
                "{func}(): Multiple or malformed newlines found in additional_header"
            )));
        }
        return header_text(bytes, "The header block")
            .and_then(crate::message::parse_header_block)
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
            let value = header_text(s.as_bytes(), &format!("Header \"{name}\""))
                .map_err(|e| value_error(format!("{func}(): {e}")))?
                .to_string();
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
pub fn options_arg(
    z: Option<&Zval>,
    func: &str,
    pos: u32,
) -> Result<Vec<(String, Value)>, ArgError> {
    let Some(z) = z.filter(|z| !z.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(arr) = z.array() else {
        return Err(type_error(format!(
            "{func}(): Argument #{pos} ($options) must be of type ?array, {} given",
            type_name(z)
        )));
    };
    let mut out = Vec::with_capacity(arr.len());
    for (k, v) in arr.iter() {
        let key = key_text(k);
        if key.eq_ignore_ascii_case("dsn") {
            out.extend(dsn_arg(v, func)?);
        } else {
            let value = option_value(&key, v, func)?;
            out.push((key, value));
        }
    }
    Ok(out)
}

/// An array key as its text (as its `Display` writes it, without the formatting machinery).
fn key_text(k: ArrayKey<'_>) -> String {
    match k {
        ArrayKey::Long(n) => n.to_string(),
        ArrayKey::String(s) => s,
        ArrayKey::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// `'dsn' => ['notify' => 'failure,delay' | ['failure', 'delay'], 'ret' => ..., ...]` as
/// `dsn.<key>` pairs (the settings check the keys and values).
fn dsn_arg(z: &Zval, func: &str) -> Result<Vec<(String, Value)>, ArgError> {
    if z.is_null() {
        return Ok(Vec::new());
    }
    let Some(arr) = z.array() else {
        return Err(type_error(format!(
            "{func}(): option \"dsn\" must be an array (['notify' => 'failure', 'ret' => \
             'hdrs', 'envid' => '...']), {} given",
            type_name(z)
        )));
    };
    let mut out = Vec::new();
    for (k, v) in arr {
        let key = format!("dsn.{k}");
        let value = match v.array() {
            Some(list) => {
                let mut words = Vec::new();
                for (_, w) in list {
                    match option_value(&key, w, func)? {
                        Value::Str(s) => words.push(s),
                        _ => {
                            return Err(type_error(format!(
                                "{func}(): option \"{key}\" must be a string or an array of \
                                 strings"
                            )))
                        }
                    }
                }
                Value::Str(words.join(","))
            }
            None => option_value(&key, v, func)?,
        };
        out.push((key, value));
    }
    Ok(out)
}

/// One scalar of the options array.
fn option_value(k: &str, v: &Zval, func: &str) -> Result<Value, ArgError> {
    let value = match v.get_type() {
        DataType::Null => Value::Null,
        DataType::False => Value::Bool(false),
        DataType::True | DataType::Bool => Value::Bool(v.bool().unwrap_or(false)),
        DataType::Long => Value::Int(v.long().unwrap_or_default()),
        DataType::Double => Value::Float(v.double().unwrap_or_default()),
        DataType::String => {
            let bytes = v.zend_str().map(|s| s.as_bytes()).unwrap_or_default();
            // The option's name is written only for the error.
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => header_text(bytes, &format!("option \"{k}\""))
                    .map_err(|e| value_error(format!("{func}(): {e}")))?,
            };
            Value::Str(text.to_string())
        }
        _ => {
            return Err(type_error(format!(
                "{func}(): option \"{k}\" must be a string, int or bool, {} given",
                type_name(v)
            )))
        }
    };
    Ok(value)
}
