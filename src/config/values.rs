//! Turning the strings and PHP values of settings into typed values, each error naming the
//! setting and what would be valid.

use std::time::Duration;

use lettre::transport::smtp::authentication::Mechanism;

use super::{AuthMode, StartTls, Value};
use crate::error::{Error, Result};

pub fn as_string(name: &str, v: &Value) -> Result<String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        Value::Null => Ok(String::new()),
        Value::Bool(_) => Err(Error::Config(format!(
            "{name} must be a string, not a boolean"
        ))),
    }
}

pub fn parse_host(s: &str) -> Result<(String, bool)> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let (host, implicit) = if lower.starts_with("ssl://") || lower.starts_with("tls://") {
        (&s[6..], true)
    } else if let Some(pos) = lower.find("://") {
        return Err(Error::Config(format!(
            "host \"{s}\" has an unknown prefix \"{}://\"; use ssl:// or tls:// for implicit TLS, \
             or a plain host name for STARTTLS",
            &s[..pos]
        )));
    } else {
        (s, false)
    };
    if host.is_empty() {
        return Err(Error::Config(
            "host is empty; set smtp.host to your SMTP server".into(),
        ));
    }
    if host
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'/')
    {
        return Err(Error::Config(format!(
            "host \"{host}\" is not a valid host name"
        )));
    }
    Ok((host.to_string(), implicit))
}

/// One entry of `smtp.host`: `name`, `ssl://name`, `name:port`, `[v6addr]:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub host: String,
    pub port: Option<u16>,
    pub implicit_tls: bool,
}

/// `smtp.host`: one server, or several separated by commas (failover, tried in order).
pub fn parse_hosts(s: &str) -> Result<Vec<HostEntry>> {
    let entries: Vec<&str> = s
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return Err(Error::Config(
            "host is empty; set smtp.host to your SMTP server".into(),
        ));
    }
    entries
        .into_iter()
        .map(|entry| {
            let (host, implicit_tls) = parse_host(entry)?;
            let (host, port) = split_port(&host)
                .map_err(|_| Error::Config(format!("host \"{entry}\" has a bad port number")))?;
            Ok(HostEntry {
                host,
                port,
                implicit_tls,
            })
        })
        .collect()
}

/// `name:port` or `[addr]:port` → (name, port). A bare IPv6 address has no port.
fn split_port(host: &str) -> std::result::Result<(String, Option<u16>), ()> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or(());
    if let Some(rest) = host.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or(())?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((format!("[{addr}]"), Some(port(p)?))),
            None if after.is_empty() => Ok((format!("[{addr}]"), None)),
            None => Err(()),
        };
    }
    match host.matches(':').count() {
        1 => {
            let (name, p) = host.split_once(':').ok_or(())?;
            Ok((name.to_string(), Some(port(p)?)))
        }
        _ => Ok((host.to_string(), None)),
    }
}

pub fn parse_port(v: &Value) -> Result<u16> {
    let n = match v {
        Value::Int(i) => *i,
        Value::Str(s) => s.trim().parse::<i64>().map_err(|_| {
            Error::Config(format!(
                "port \"{s}\" is not a number (usually 587, 465 or 25)"
            ))
        })?,
        Value::Float(f) if f.fract() == 0.0 => *f as i64,
        other => return Err(Error::Config(format!("port {other:?} is not a number"))),
    };
    u16::try_from(n)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::Config(format!("port {n} is out of range (1-65535)")))
}

pub fn parse_auth(v: &Value) -> Result<AuthMode> {
    let text = match v {
        Value::Bool(b) => return Ok(if *b { AuthMode::Auto } else { AuthMode::Off }),
        Value::Int(0) => return Ok(AuthMode::Off),
        Value::Int(1) => return Ok(AuthMode::Auto),
        Value::Null => return Ok(AuthMode::Off),
        Value::Str(s) => s.trim().to_ascii_uppercase(),
        other => return Err(Error::Config(format!("auth {other:?} is not valid"))),
    };
    Ok(match text.as_str() {
        "" | "0" | "OFF" | "FALSE" | "NO" | "NONE" => AuthMode::Off,
        "1" | "ON" | "TRUE" | "YES" => AuthMode::Auto,
        "PLAIN" => AuthMode::Only(Mechanism::Plain),
        "LOGIN" => AuthMode::Only(Mechanism::Login),
        "XOAUTH2" => AuthMode::Only(Mechanism::Xoauth2),
        _ => {
            return Err(Error::Config(format!(
                "auth \"{text}\" is not valid: use 0, 1, PLAIN, LOGIN or XOAUTH2"
            )))
        }
    })
}

pub fn parse_timeout(v: &Value) -> Result<Duration> {
    let d = parse_seconds("timeout", v, 0.001)?;
    if d > Duration::from_secs(3600) {
        return Err(Error::Config(format!(
            "timeout {} is out of range: give seconds, more than 0 and at most 3600",
            d.as_secs_f64()
        )));
    }
    Ok(d)
}

/// A non-negative number (seconds, or a count) at least `min`.
pub fn parse_seconds(name: &str, v: &Value, min: f64) -> Result<Duration> {
    let n = match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Str(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| Error::Config(format!("{name} \"{s}\" is not a number")))?,
        other => return Err(Error::Config(format!("{name} {other:?} is not a number"))),
    };
    if !(n >= min && n < 1e9) {
        return Err(Error::Config(format!("{name} {n} is out of range")));
    }
    Ok(Duration::from_secs_f64(n))
}

pub fn parse_bool(name: &str, v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Int(i) => Ok(*i != 0),
        Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "off" | "false" | "no" => Ok(false),
            "1" | "on" | "true" | "yes" => Ok(true),
            _ => Err(Error::Config(format!("{name} \"{s}\" is not on/off"))),
        },
        other => Err(Error::Config(format!("{name} {other:?} is not on/off"))),
    }
}

pub fn parse_starttls(v: &str) -> Result<StartTls> {
    Ok(match v.trim().to_ascii_lowercase().as_str() {
        "auto" => StartTls::Auto,
        "required" | "require" | "1" | "on" => StartTls::Required,
        // PHP's ini parser turns an unquoted off/no/false/none into "".
        "" | "off" | "0" | "no" | "never" => StartTls::Off,
        other => {
            return Err(Error::Config(format!(
                "starttls \"{other}\" is not valid: use auto, required or off"
            )))
        }
    })
}

/// `smtp.max_time`: seconds for the whole call; 0 means no cap.
pub fn parse_max_time(v: &Value) -> Result<Option<Duration>> {
    let d = parse_seconds("max_time", v, 0.0)?;
    if d > Duration::from_secs(86_400) {
        return Err(Error::Config(format!(
            "max_time {} is out of range: give seconds, 0 (no cap) up to 86400",
            d.as_secs_f64()
        )));
    }
    Ok((!d.is_zero()).then_some(d))
}

/// `smtp.chunking`: `auto` (BDAT when offered) or `off`.
pub fn parse_chunking(v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "auto" | "1" | "on" => Ok(true),
        // PHP's ini parser turns an unquoted off into "".
        "" | "off" | "0" | "no" => Ok(false),
        other => Err(Error::Config(format!(
            "chunking \"{other}\" is not valid: use auto or off"
        ))),
    }
}

/// `smtp.max_rate`: at most `count` messages every `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// `smtp.max_rate`: `N/s`, `N/min` or `N/h` (and the words `sec`, `second`, `minute`, `hour`);
/// empty or 0 means no limit. A day's quota is no rate (spread over a day, one message would
/// go every few minutes), so there is no `/day`.
pub fn parse_rate(v: &str) -> Result<Option<Rate>> {
    let v = v.trim();
    let bad = |why: &str| {
        Error::Config(format!(
            "max_rate \"{v}\" is not valid: {why}; give messages per second, minute or hour \
             as N/s, N/min or N/h (e.g. 30/min for Exchange Online), or 0 for no limit"
        ))
    };
    if v.is_empty() || v == "0" {
        return Ok(None);
    }
    let Some((n, unit)) = v.split_once('/') else {
        return Err(bad("no unit"));
    };
    let count: u32 = n
        .trim()
        .parse()
        .map_err(|_| bad("the count is not a whole number"))?;
    let per = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        _ => return Err(bad("the unit is not s, min or h")),
    };
    if count == 0 {
        return Ok(None);
    }
    if count > 1_000_000 {
        return Err(bad("more than 1000000 a period"));
    }
    Ok(Some(Rate { count, per }))
}
