//! Header rules: names, values (CR/LF only as folding, never NUL, as php-src's `mail.c`),
//! `mail()`'s string header block, To/Subject sanitising, and header text from PHP's bytes.

use crate::address::printable;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl Header {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    pub(crate) fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// Why a header was refused, in php-src's words (`php_mail_build_headers`), so that
/// `smtp_send()` and `mail()` say the same thing about the same header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    InvalidName(String),
    /// A lone LF that is not folding: it would start a new header.
    LfOnly(String),
    /// A lone CR.
    CrOnly(String),
    /// CRLF not followed by a space or tab: a new header.
    Crlf(String),
    Nul(String),
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::InvalidName(n) => {
                write!(
                    f,
                    "Header name \"{}\" contains invalid characters",
                    printable(n)
                )
            }
            HeaderError::LfOnly(n) => write!(
                f,
                "Header \"{}\" contains LF character that is not allowed in the header",
                printable(n)
            ),
            HeaderError::CrOnly(n) => write!(
                f,
                "Header \"{}\" contains CR character that is not allowed in the header",
                printable(n)
            ),
            HeaderError::Crlf(n) => write!(
                f,
                "Header \"{}\" contains CRLF characters that are used as a line separator and \
                 are not allowed in the header",
                printable(n)
            ),
            HeaderError::Nul(n) => write!(
                f,
                "Header \"{}\" contains NULL character that is not allowed in the header",
                printable(n)
            ),
        }
    }
}

impl From<HeaderError> for Error {
    fn from(e: HeaderError) -> Error {
        Error::Message(e.to_string())
    }
}

/// A field name is printable ASCII without a colon (RFC 5322 section 2.2).
pub fn check_name(name: &str) -> std::result::Result<(), HeaderError> {
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        return Err(HeaderError::InvalidName(name.to_string()));
    }
    Ok(())
}

/// A field value may break lines only to fold them (php-src's rules: CRLF or LF followed by a
/// space or tab).
pub fn check_value(name: &str, value: &str) -> std::result::Result<(), HeaderError> {
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            0 => return Err(HeaderError::Nul(name.to_string())),
            b'\r' if b.get(i + 1) != Some(&b'\n') => {
                return Err(HeaderError::CrOnly(name.to_string()))
            }
            b'\r' if matches!(b.get(i + 2), Some(b' ' | b'\t')) => i += 3,
            b'\r' => return Err(HeaderError::Crlf(name.to_string())),
            b'\n' if matches!(b.get(i + 1), Some(b' ' | b'\t')) => i += 2,
            b'\n' => return Err(HeaderError::LfOnly(name.to_string())),
            _ => i += 1,
        }
    }
    Ok(())
}

/// Parses `mail()`'s string form of additional headers: lines separated by CRLF or LF,
/// continuation lines starting with a space or tab. Empty lines inside (which would end the
/// header block and start the body) and lines without a colon are refused.
pub fn parse_header_block(block: &str) -> Result<Vec<Header>> {
    let block = block.trim_end_matches(['\r', '\n', ' ', '\t']);
    let mut headers: Vec<Header> = Vec::new();
    if block.is_empty() {
        return Ok(headers);
    }
    // Lines end at LF (with an optional CR before it), as sendmail reads them. A lone CR is
    // no line break here: it stays in its value, where `check_value` refuses it, because a
    // server further on may take it as one and the rest of the line would become a header.
    for line in block.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return Err(Error::Message(
                "Multiple or malformed newlines found in additional_header".into(),
            ));
        }
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().ok_or_else(|| {
                Error::Message("additional headers start with a continuation line".into())
            })?;
            last.value.push_str("\r\n");
            last.value.push_str(line);
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| {
            Error::Message(format!(
                "malformed header line \"{}\" in additional headers (expected \"Name: value\")",
                printable(line)
            ))
        })?;
        check_name(name)?;
        headers.push(Header::new(name, value.trim_start()));
    }
    for h in &headers {
        check_value(&h.name, &h.value)?;
    }
    Ok(headers)
}

/// Header text from PHP's bytes: UTF-8 or refused, never with bytes replaced. PHP strings are
/// bytes and a Latin-1 Subject (`Gr\xfc\xdfe`) reaches sendmail as it is; here it would have to
/// be encoded for the header without knowing its charset, so the caller gets the fix instead.
/// `what` names the text ("Subject", "Header \"X-A\"").
pub fn header_text<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        Error::Message(format!(
            "{what} is not valid UTF-8 (byte 0x{:02X} at offset {at}): convert it first, for \
             example with mb_convert_encoding($text, 'UTF-8', 'ISO-8859-1'), or encode it as an \
             RFC 2047 encoded word",
            bytes[at]
        ))
    })
}

/// What PHP's `mail()` does to its To and Subject arguments: trailing white space goes, and
/// control characters become spaces, except CRLF + white space (folding), which is kept.
pub fn sanitize_line(s: &str) -> String {
    let s = s.trim_end();
    if !s.bytes().any(|b| b.is_ascii_control()) {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\r'
            && b.get(i + 1) == Some(&b'\n')
            && matches!(b.get(i + 2), Some(b' ' | b'\t'))
        {
            out.extend_from_slice(b"\r\n");
            i += 2;
            continue;
        }
        out.push(if b[i].is_ascii_control() { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_may_only_fold() {
        assert!(check_value("X", "a\r\n b").is_ok());
        assert!(check_value("X", "a\n\tb").is_ok());
        assert_eq!(
            check_value("X", "a\r\nBcc: e@x"),
            Err(HeaderError::Crlf("X".into()))
        );
        assert_eq!(
            check_value("X", "a\nb"),
            Err(HeaderError::LfOnly("X".into()))
        );
        assert_eq!(
            check_value("X", "a\rb"),
            Err(HeaderError::CrOnly("X".into()))
        );
        assert_eq!(
            check_value("X", "a\r"),
            Err(HeaderError::CrOnly("X".into()))
        );
        assert_eq!(check_value("X", "a\0"), Err(HeaderError::Nul("X".into())));
        assert!(check_name("X-Ok").is_ok());
        for bad in ["", "A B", "A:B", "Ä", "A\r\n"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn header_text_is_utf8_or_refused() {
        assert_eq!(header_text("Grüße".as_bytes(), "Subject").unwrap(), "Grüße");
        let e = header_text(b"Gr\xfc\xdfe", "Subject")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("Subject is not valid UTF-8 (byte 0xFC at offset 2)"),
            "{e}"
        );
    }

    #[test]
    fn header_block_parsing() {
        let h = parse_header_block("From: a@example.org\r\nX-A: 1\n  cont\r\n").unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].value, "1\r\n  cont");
        for bad in [
            "From: a@example.org\r\n\r\nX: y",
            "\nFrom: a@example.org",
            "not a header",
            " continuation first: x",
        ] {
            assert!(parse_header_block(bad).is_err(), "{bad:?}");
        }
        assert!(parse_header_block("").unwrap().is_empty());
    }

    #[test]
    fn a_lone_cr_never_starts_a_header() {
        for block in [
            "From: w@example.org\r\nReply-To: x@y.org\rBcc: evil@evil.org",
            "From: w@example.org\rBcc: evil@evil.org",
            "From: w@example.org\r\nX-A: 1\r\n cont\rBcc: evil@evil.org",
            "X\rBcc: evil@evil.org",
        ] {
            let e = parse_header_block(block).unwrap_err().to_string();
            assert!(
                e.contains("CR character") || e.contains("invalid"),
                "{block:?}: {e}"
            );
        }
        // Not even as the last byte before LF twice over.
        assert!(parse_header_block("From: w@example.org\r\r\nBcc: evil@evil.org").is_err());
    }
}
