//! What the sender asks of the delivery beyond the message itself: delivery status
//! notifications (DSN, RFC 3461). Per message, not per connection: it goes in the envelope
//! (MAIL and RCPT parameters), and only to a server that offers the extension.

use std::fmt;

/// The longest ENVID RFC 3461 section 4.4 allows (characters before xtext encoding).
pub const MAX_ENVID: usize = 100;

/// When the sender wants a notification for a recipient (RCPT ... NOTIFY=).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notify {
    pub success: bool,
    pub failure: bool,
    pub delay: bool,
}

impl Notify {
    /// `NEVER`: none at all, not even a bounce.
    pub fn never() -> Notify {
        Notify::default()
    }

    /// `never`, or any of `success`, `failure`, `delay` separated by commas (case and blanks
    /// do not matter); an empty text asks nothing (`None`: the server's default).
    pub fn parse(text: &str) -> Result<Option<Notify>, String> {
        let words: Vec<String> = text
            .split(',')
            .map(|w| w.trim().to_ascii_lowercase())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Ok(None);
        }
        if words.iter().any(|w| w == "never") {
            if words.len() > 1 {
                return Err(format!(
                    "dsn notify \"{text}\" is not valid: \"never\" cannot go with other values"
                ));
            }
            return Ok(Some(Notify::never()));
        }
        let mut n = Notify::default();
        for w in &words {
            match w.as_str() {
                "success" => n.success = true,
                "failure" => n.failure = true,
                "delay" => n.delay = true,
                _ => {
                    return Err(format!(
                        "dsn notify \"{text}\" is not valid: use never, or any of success, \
                         failure, delay (comma separated, or an array)"
                    ))
                }
            }
        }
        Ok(Some(n))
    }
}

impl fmt::Display for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = [
            (self.success, "SUCCESS"),
            (self.failure, "FAILURE"),
            (self.delay, "DELAY"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| *w)
        .collect();
        if words.is_empty() {
            f.write_str("NEVER")
        } else {
            f.write_str(&words.join(","))
        }
    }
}

/// How much of the message a failure notification returns (MAIL ... RET=).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Full,
    Hdrs,
}

impl Ret {
    /// `full` or `hdrs`; empty asks nothing (`None`: the server's default).
    pub fn parse(text: &str) -> Result<Option<Ret>, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "full" => Ok(Some(Ret::Full)),
            "hdrs" | "headers" => Ok(Some(Ret::Hdrs)),
            _ => Err(format!(
                "dsn ret \"{text}\" is not valid: use full (the whole message comes back in a \
                 bounce) or hdrs (only its headers)"
            )),
        }
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Ret::Full => "FULL",
            Ret::Hdrs => "HDRS",
        }
    }
}

/// The DSN parameters of one message. Nothing asked (the default) sends no parameter at all,
/// as before this existed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    pub notify: Option<Notify>,
    pub ret: Option<Ret>,
    /// The sender's own id for this message, echoed in the notification as
    /// `Original-Envelope-Id:` so a bounce can be matched to what was sent.
    pub envid: Option<String>,
    /// Fail unsent when the server does not offer DSN, rather than send without.
    pub required: bool,
}

impl Dsn {
    /// Whether anything is asked of the server.
    pub fn is_asked(&self) -> bool {
        self.notify.is_some() || self.ret.is_some() || self.envid.is_some()
    }

    /// Checks an envelope id: printable ASCII, at most `MAX_ENVID` characters; empty = none.
    pub fn parse_envid(text: &str) -> Result<Option<String>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        if let Some(bad) = text.chars().find(|c| !(' '..='~').contains(c)) {
            return Err(format!(
                "dsn envid has the character {bad:?}: an envelope id is printable ASCII \
                 (letters, digits, punctuation, space)"
            ));
        }
        if text.len() > MAX_ENVID {
            return Err(format!(
                "dsn envid is {} characters long; RFC 3461 allows at most {MAX_ENVID}",
                text.len()
            ));
        }
        Ok(Some(text.to_string()))
    }
}

/// xtext (RFC 3461 section 4): printable ASCII but `+` and `=` as it is, every other byte as
/// `+XX`.
pub fn xtext(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

/// utf-8-addr-xtext (RFC 6533 section 3): UTF-8 as it is, but blanks, controls, `+`, `=` and
/// `\\` as `\\x{HEX}`.
pub fn utf8_addr_xtext(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c as u32) <= 0x20 || c == '\u{7F}' || matches!(c, '+' | '=' | '\\') {
            out.push_str(&format!("\\x{{{:X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_forms() {
        let p = |s: &str| Notify::parse(s).map(|n| n.map(|n| n.to_string()));
        assert_eq!(p(""), Ok(None));
        assert_eq!(p(" , "), Ok(None));
        assert_eq!(p("never"), Ok(Some("NEVER".into())));
        assert_eq!(p("Failure"), Ok(Some("FAILURE".into())));
        assert_eq!(
            p("delay, success,failure"),
            Ok(Some("SUCCESS,FAILURE,DELAY".into()))
        );
        assert!(p("never,failure").is_err());
        assert!(p("bounce").is_err());
    }

    #[test]
    fn ret_forms() {
        assert_eq!(Ret::parse("HDRS"), Ok(Some(Ret::Hdrs)));
        assert_eq!(Ret::parse(""), Ok(None));
        assert!(Ret::parse("body").is_err());
    }

    #[test]
    fn envid_is_printable_ascii_and_short() {
        assert_eq!(Dsn::parse_envid("a b+c=d"), Ok(Some("a b+c=d".into())));
        assert!(Dsn::parse_envid("a\r\nb").is_err());
        assert!(Dsn::parse_envid("é").is_err());
        assert!(Dsn::parse_envid(&"x".repeat(101)).is_err());
        assert_eq!(Dsn::parse_envid(""), Ok(None));
    }

    #[test]
    fn utf8_addr_xtext_keeps_utf8() {
        assert_eq!(utf8_addr_xtext("jö+rg=@bü.de"), "jö\\x{2B}rg\\x{3D}@bü.de");
    }

    #[test]
    fn xtext_encodes_plus_equals_and_blanks() {
        assert_eq!(xtext("a b+c=d;é"), "a+20b+2Bc+3Dd;+C3+A9");
    }
}
