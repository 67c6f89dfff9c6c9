//! Server replies: where one ends in the byte stream, what it says (code, enhanced status, text),
//! and what the EHLO reply offers.

use std::str::FromStr;

use lettre::transport::smtp::extension::{Extension, ServerInfo};
use lettre::transport::smtp::response::Response;

use crate::error::Reply;

/// What the server said it can do in its EHLO reply.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub pipelining: bool,
    pub eight_bit_mime: bool,
    pub starttls: bool,
    pub chunking: bool,
    /// DSN (RFC 3461): NOTIFY, ORCPT, RET and ENVID are understood.
    pub dsn: bool,
    /// SMTPUTF8 (RFC 6531): UTF-8 addresses and header fields.
    pub smtputf8: bool,
    /// REQUIRETLS (RFC 8689).
    pub requiretls: bool,
    /// SIZE: the largest message the server takes (0 = no limit given).
    pub size: Option<u64>,
    /// The mechanisms after AUTH, as the server wrote them.
    pub auth_offered: String,
    pub info: ServerInfo,
}

impl Capabilities {
    /// From a 250 reply to EHLO.
    pub fn parse(response: &Response) -> Capabilities {
        let mut caps = Capabilities {
            info: ServerInfo::from_response(response).unwrap_or_default(),
            ..Default::default()
        };
        for line in response.message().skip(1) {
            let mut words = line.split_whitespace();
            let keyword = words.next().unwrap_or("").to_ascii_uppercase();
            match keyword.as_str() {
                "PIPELINING" => caps.pipelining = true,
                "CHUNKING" => caps.chunking = true,
                "DSN" => caps.dsn = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "REQUIRETLS" => caps.requiretls = true,
                "SIZE" => caps.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                "AUTH" => caps.auth_offered = words.collect::<Vec<_>>().join(" "),
                _ => {}
            }
        }
        caps.eight_bit_mime = caps.info.supports_feature(Extension::EightBitMime);
        caps.starttls = caps.info.supports_feature(Extension::StartTls);
        caps
    }

    /// The extensions a message may depend on, offered and not: `offered: PIPELINING, SIZE
    /// 10485760; not offered: CHUNKING, DSN` (the doctor, phpinfo).
    pub fn extensions(&self) -> String {
        let size = match self.size {
            Some(n) if n > 0 => Some(format!("SIZE {n}")),
            Some(_) => Some("SIZE".to_string()),
            None => None,
        };
        let all = [
            (
                self.pipelining.then(|| "PIPELINING".to_string()),
                "PIPELINING",
            ),
            (
                self.eight_bit_mime.then(|| "8BITMIME".to_string()),
                "8BITMIME",
            ),
            (self.chunking.then(|| "CHUNKING".to_string()), "CHUNKING"),
            (size, "SIZE"),
            (self.smtputf8.then(|| "SMTPUTF8".to_string()), "SMTPUTF8"),
            (self.dsn.then(|| "DSN".to_string()), "DSN"),
            (
                self.requiretls.then(|| "REQUIRETLS".to_string()),
                "REQUIRETLS",
            ),
        ];
        let offered: Vec<String> = all.iter().filter_map(|(o, _)| o.clone()).collect();
        let missing: Vec<&str> = all
            .iter()
            .filter(|(o, _)| o.is_none())
            .map(|(_, n)| *n)
            .collect();
        let list = |v: &[&str]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let offered: Vec<&str> = offered.iter().map(String::as_str).collect();
        format!(
            "offered: {}; not offered: {}",
            list(&offered),
            list(&missing)
        )
    }

    /// For the doctor and the debug log.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (on, name) in [
            (self.pipelining, "PIPELINING"),
            (self.chunking, "CHUNKING"),
            (self.eight_bit_mime, "8BITMIME"),
            (self.starttls, "STARTTLS"),
            (self.dsn, "DSN"),
            (self.smtputf8, "SMTPUTF8"),
            (self.requiretls, "REQUIRETLS"),
        ] {
            if on {
                parts.push(name.to_string());
            }
        }
        if let Some(size) = self.size.filter(|s| *s > 0) {
            parts.push(format!("SIZE {size}"));
        }
        if !self.auth_offered.is_empty() {
            parts.push(format!("AUTH {}", self.auth_offered));
        }
        parts.join(", ")
    }
}

/// The length of the first complete reply in the buffer: lines up to one whose fourth byte is
/// not '-'. Bare LF line ends count too (normalised before parsing).
pub fn complete_len(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + nl];
        let end = start + nl + 1;
        if line.get(3) != Some(&b'-') {
            return Some(end);
        }
        start = end;
    }
    None
}

/// A reply line starts with three digits followed by a space, a dash, or the line end.
pub fn line_ok(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.len() >= 3
        && line[..3].iter().all(u8::is_ascii_digit)
        && matches!(line.get(3), None | Some(b' ' | b'-'))
}

/// Parses one complete reply. Single-line replies (the replies of a send) are read straight
/// from the bytes; anything else goes through lettre's parser, which is kept for EHLO.
pub fn parse(raw: &[u8]) -> Result<(Reply, Option<Response>), String> {
    let line = raw.strip_suffix(b"\n").unwrap_or(raw);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let single = !line.contains(&b'\n')
        && line.len() >= 3
        && line[..3].iter().all(u8::is_ascii_digit)
        && matches!(line.get(3), None | Some(b' '));
    if single {
        if let Ok(text) = std::str::from_utf8(line) {
            // Three ASCII digits (checked above).
            let code = line[..3]
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
            if (200..600).contains(&code) {
                return Ok((one_line(code, text.get(4..).unwrap_or("")), None));
            }
        }
    }
    // Some servers end lines with a bare LF; the reply parser wants CRLF.
    let text = String::from_utf8_lossy(raw)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let response = Response::from_str(&text).map_err(|e| format!("{e}: {:?}", text.trim_end()))?;
    Ok((to_reply(&response), Some(response)))
}

fn to_reply(r: &Response) -> Reply {
    let code = r.code().to_string().parse().unwrap_or(0);
    let lines: Vec<&str> = r.message().collect();
    reply_from(code, &lines)
}

fn reply_from(code: u16, lines: &[&str]) -> Reply {
    let first = lines.first().copied().unwrap_or("");
    Reply {
        code,
        enhanced: enhanced_status(first),
        text: lines.join(" "),
    }
}

/// A single-line reply (every reply of a pooled send): no list of lines to join.
fn one_line(code: u16, text: &str) -> Reply {
    Reply {
        code,
        enhanced: enhanced_status(text),
        text: text.to_string(),
    }
}

/// The enhanced status code (RFC 3463) that starts the first line, when there is one: three
/// parts of one to three digits. The first word is read only as far as digits and dots go (a
/// status is nothing else), without splitting the line into words.
fn enhanced_status(first: &str) -> Option<String> {
    let rest = first.trim_start();
    let run = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (word, after) = rest.split_at(run);
    // The word goes on past the digits and dots: it is something else.
    if after.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    let mut parts = 0;
    for p in word.split('.') {
        parts += 1;
        if parts > 3 || p.is_empty() || p.len() > 3 {
            return None;
        }
    }
    (parts == 3).then(|| word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(complete_len(b"250-a\r\n250 b\r\n220"), Some(14));
        assert_eq!(complete_len(b"250-a\r\n250-b\r\n"), None);
        assert_eq!(complete_len(b"220 hi"), None);
        assert!(line_ok(b"220 hi\r"));
        assert!(!line_ok(b"HTTP/1.1 400"));
    }

    #[test]
    fn replies_keep_code_enhanced_status_and_text() {
        let (reply, _) = parse(b"550-5.7.1 you are not\r\n550 5.7.1 authorized\r\n").unwrap();
        assert_eq!(reply.code, 550);
        assert_eq!(reply.enhanced.as_deref(), Some("5.7.1"));
        assert_eq!(reply.text, "5.7.1 you are not 5.7.1 authorized");
        let (reply, response) = parse(b"250 2.0.0 Ok: queued as X\r\n").unwrap();
        assert!(response.is_none());
        assert_eq!(reply.enhanced.as_deref(), Some("2.0.0"));
        let (reply, _) = parse(b"452 Too many\n").unwrap();
        assert!(reply.too_many_recipients());
        for (raw, code, enhanced, text) in [
            (&b"250 2.1.0 Ok\r\n"[..], 250, Some("2.1.0"), "2.1.0 Ok"),
            (b"250 Ok\r\n", 250, None, "Ok"),
            (b"250\r\n", 250, None, ""),
            (
                b"354 End data with <CR><LF>.<CR><LF>\r\n",
                354,
                None,
                "End data with <CR><LF>.<CR><LF>",
            ),
            (b"550 5.1.1.1 no\r\n", 550, None, "5.1.1.1 no"),
            (b"550 5.1 no\r\n", 550, None, "5.1 no"),
            (b"550 5..1 no\r\n", 550, None, "5..1 no"),
            (
                b"421 4.7.0 1234.5.6\r\n",
                421,
                Some("4.7.0"),
                "4.7.0 1234.5.6",
            ),
            (b"599 5.999.1 x\r\n", 599, Some("5.999.1"), "5.999.1 x"),
            (b"599 5.1000.1 x\r\n", 599, None, "5.1000.1 x"),
            (
                b"250  2.0.0 two spaces\r\n",
                250,
                Some("2.0.0"),
                " 2.0.0 two spaces",
            ),
            (b"250 2.0.0\r\n", 250, Some("2.0.0"), "2.0.0"),
            (b"250 2.0.0x y\r\n", 250, None, "2.0.0x y"),
            (b"250 2.0.0\ty\r\n", 250, Some("2.0.0"), "2.0.0\ty"),
            (
                b"250 2.0.0\xc2\xa0y\r\n",
                250,
                Some("2.0.0"),
                "2.0.0\u{a0}y",
            ),
            (
                b"250 \xe3\x80\x802.0.0 y\r\n",
                250,
                Some("2.0.0"),
                "\u{3000}2.0.0 y",
            ),
            (b"250 .2.0 y\r\n", 250, None, ".2.0 y"),
            (b"250 2.0. y\r\n", 250, None, "2.0. y"),
            (b"250 2.0.0.\x0by\r\n", 250, None, "2.0.0.\x0by"),
            (b"250 2.0.0\x0by\r\n", 250, Some("2.0.0"), "2.0.0\x0by"),
        ] {
            let (reply, _) = parse(raw).unwrap();
            assert_eq!(
                (reply.code, reply.enhanced.as_deref(), reply.text.as_str()),
                (code, enhanced, text),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn ehlo_capabilities() {
        let (_, response) = parse(
            b"250-mx.example Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-CHUNKING\r\n\
              250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n",
        )
        .unwrap();
        let caps = Capabilities::parse(&response.unwrap());
        assert!(caps.pipelining && caps.chunking && caps.eight_bit_mime && !caps.starttls);
        assert_eq!(caps.size, Some(10_240_000));
        assert_eq!(caps.auth_offered, "PLAIN LOGIN");
        assert_eq!(
            caps.describe(),
            "PIPELINING, CHUNKING, 8BITMIME, SIZE 10240000, AUTH PLAIN LOGIN"
        );
    }
}
