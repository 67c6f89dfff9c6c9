//! One input of the harness: the arguments of one `mail()` call, as exact bytes, and how it is
//! written to the batch file (base64 JSON, read by send.php), to the regression file (the same,
//! one case a line) and for people (PHP code that makes the same call).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub to: Vec<u8>,
    pub subject: Vec<u8>,
    pub body: Vec<u8>,
    pub headers: Headers,
    /// `additional_params` (`-f ...`); `None`: the argument is not passed.
    pub params: Option<Vec<u8>>,
    /// Send to capture servers without 8BITMIME (Postfix then converts 8-bit bodies to
    /// quoted-printable, and the extension must not send 8-bit data either).
    pub seven_bit: bool,
    /// Why a regression case is kept (empty for generated cases).
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Headers {
    None,
    /// `additional_headers` as a string.
    Text(Vec<u8>),
    /// `additional_headers` as an array: name => value, or name => list of values.
    Array(Vec<ArrayHeader>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayHeader {
    pub name: Vec<u8>,
    pub values: Vec<Vec<u8>>,
    /// `name => [values...]` rather than `name => value` (then `values` has one element).
    pub list: bool,
}

fn b64(b: &[u8]) -> Value {
    Value::String(B64.encode(b))
}

fn unb64(v: &Value, what: &str) -> Result<Vec<u8>, String> {
    let s = v.as_str().ok_or_else(|| format!("{what}: not a string"))?;
    B64.decode(s).map_err(|e| format!("{what}: {e}"))
}

impl Case {
    /// The case as send.php and the regression file read it; `id` is the tag of this run.
    pub fn to_json(&self, id: usize) -> Value {
        let headers = match &self.headers {
            Headers::None => Value::Null,
            Headers::Text(t) => json!({ "text": b64(t) }),
            Headers::Array(a) => json!({
                "array": a
                    .iter()
                    .map(|h| json!({
                        "name": b64(&h.name),
                        "values": h.values.iter().map(|v| b64(v)).collect::<Vec<_>>(),
                        "list": h.list,
                    }))
                    .collect::<Vec<_>>()
            }),
        };
        json!({
            "id": id,
            "to": b64(&self.to),
            "subject": b64(&self.subject),
            "body": b64(&self.body),
            "headers": headers,
            "params": self.params.as_deref().map(b64),
            "seven_bit": self.seven_bit,
            "note": self.note,
        })
    }

    pub fn from_json(v: &Value) -> Result<Case, String> {
        let headers = match &v["headers"] {
            Value::Null => Headers::None,
            h if !h["text"].is_null() => Headers::Text(unb64(&h["text"], "headers.text")?),
            h => {
                let list = h["array"]
                    .as_array()
                    .ok_or("headers: neither text nor array")?;
                let mut out = Vec::new();
                for e in list {
                    let values = e["values"]
                        .as_array()
                        .ok_or("headers.array.values: not a list")?
                        .iter()
                        .map(|x| unb64(x, "headers.array.values"))
                        .collect::<Result<Vec<_>, _>>()?;
                    if values.is_empty() {
                        return Err("headers.array.values: empty".into());
                    }
                    out.push(ArrayHeader {
                        name: unb64(&e["name"], "headers.array.name")?,
                        values,
                        list: e["list"].as_bool().unwrap_or(false),
                    });
                }
                Headers::Array(out)
            }
        };
        Ok(Case {
            to: unb64(&v["to"], "to")?,
            subject: unb64(&v["subject"], "subject")?,
            body: unb64(&v["body"], "body")?,
            headers,
            params: match &v["params"] {
                Value::Null => None,
                p => Some(unb64(p, "params")?),
            },
            seven_bit: v["seven_bit"].as_bool().unwrap_or(false),
            note: v["note"].as_str().unwrap_or_default().to_string(),
        })
    }

    /// PHP code that makes this call (without the harness's tag header).
    pub fn php(&self) -> String {
        let headers = match &self.headers {
            Headers::None => "''".to_string(),
            Headers::Text(t) => php_string(t),
            Headers::Array(a) => {
                let items: Vec<String> = a
                    .iter()
                    .map(|h| {
                        let value = if h.list {
                            let vs: Vec<String> = h.values.iter().map(|v| php_string(v)).collect();
                            format!("[{}]", vs.join(", "))
                        } else {
                            php_string(&h.values[0])
                        };
                        format!("{} => {value}", php_string(&h.name))
                    })
                    .collect();
                format!("[{}]", items.join(", "))
            }
        };
        let mut args = vec![
            php_string(&self.to),
            php_string(&self.subject),
            php_string(&self.body),
            headers,
        ];
        if let Some(p) = &self.params {
            args.push(php_string(p));
        }
        let seven = if self.seven_bit {
            "  /* to a server without 8BITMIME */"
        } else {
            ""
        };
        format!("mail({});{seven}", args.join(", "))
    }
}

/// A PHP double-quoted string with the same bytes; runs of 16 or more of one byte become
/// `str_repeat()`, so huge values stay readable.
pub fn php_string(b: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|&&c| c == b[i]).count();
        if run >= 16 {
            if !lit.is_empty() {
                parts.push(format!("\"{lit}\""));
                lit.clear();
            }
            parts.push(format!("str_repeat(\"{}\", {run})", escape(b[i])));
            i += run;
        } else {
            lit.push_str(&escape(b[i]));
            i += 1;
        }
    }
    if !lit.is_empty() || parts.is_empty() {
        parts.push(format!("\"{lit}\""));
    }
    parts.join(" . ")
}

fn escape(c: u8) -> String {
    match c {
        b'\r' => "\\r".into(),
        b'\n' => "\\n".into(),
        b'\t' => "\\t".into(),
        b'\\' => "\\\\".into(),
        b'"' => "\\\"".into(),
        b'$' => "\\$".into(),
        0x20..=0x7e => (c as char).to_string(),
        _ => format!("\\x{c:02x}"),
    }
}
