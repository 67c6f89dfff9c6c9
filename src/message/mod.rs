//! `mail()`/`smtp_send()` arguments → the RFC 5322 message bytes and its envelope.
//!
//! Recipients come from the To argument and the To, Cc and Bcc headers (as `sendmail -t` does
//! for PHP's own `mail()`); Bcc is then removed. The header rules are in `header`, the body's
//! wire form in `body`, dates and Message-IDs in `date`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::SystemTime;

use crate::address::{check_addr, parse_list, parse_mailbox, printable};
use crate::encode::{encode_text, is_plain_header_text, Count, MAX_LINE};
use crate::error::{Error, Result};

mod body;
mod date;
pub mod delivery;
mod header;

pub use body::normalize_crlf;
use body::{scan_body, BodyForm};
pub use date::{generate_message_id, rfc5322_date, UtcTime};
pub use delivery::Dsn;
pub use header::{
    check_name, check_value, header_text, parse_header_block, sanitize_line, Header, HeaderError,
};

/// Everything one send needs to build the message. The body is borrowed from the caller (PHP
/// holds it): `build()` writes the one copy that goes to the wire.
#[derive(Debug, Clone, Default)]
pub struct Draft<'a> {
    /// The To argument as given (one or more addresses, comma separated). May be empty when
    /// the recipients are in the headers.
    pub to: String,
    pub subject: String,
    pub body: &'a [u8],
    /// Already checked with `check_name`/`check_value` (or parsed by `parse_header_block`).
    pub headers: Vec<Header>,
    /// Envelope sender forced by the caller (`mail()`'s `-f`).
    pub envelope_from: Option<String>,
    /// Fallback sender when neither -f, Return-Path nor From gives one (`sendmail_from`).
    pub default_from: Option<String>,
    /// Domain of the generated Message-ID.
    pub idhost: String,
    /// What the sender asks of the delivery (DSN), passed on to the envelope.
    pub dsn: Dsn,
    /// REQUIRETLS (RFC 8689), passed on to the envelope.
    pub require_tls: bool,
}

/// The message ready for the wire: envelope plus bytes (CRLF line ends, not yet dot-stuffed).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub from: String,
    pub rcpts: Vec<String>,
    pub data: Vec<u8>,
    pub message_id: String,
    /// The message has bytes above 127 (ask for BODY=8BITMIME when the server offers it).
    pub eight_bit: bool,
    /// Where the body starts in `data` (after the empty line).
    pub body_start: usize,
    /// The body may be re-encoded as quoted-printable: a single part (not multipart or
    /// message/*) whose Content-Transfer-Encoding, if any, is 7bit or 8bit.
    pub body_reencodable: bool,
    /// DSN parameters for the envelope (nothing asked by default).
    pub dsn: Dsn,
    /// An address (envelope or header) has a UTF-8 local part: only a server with SMTPUTF8
    /// (RFC 6531) can take the message, with `MAIL FROM:<...> SMTPUTF8`.
    pub smtputf8: bool,
    /// REQUIRETLS (RFC 8689): only over verified TLS to a server that offers it, with
    /// `MAIL FROM:<...> REQUIRETLS`.
    pub require_tls: bool,
}

const ADDRESS_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "sender",
    "resent-from",
    "resent-to",
    "resent-cc",
];

impl Draft<'_> {
    pub fn build(&self) -> Result<Prepared> {
        let mut rcpts: Vec<String> = Vec::new();
        // A set once the list is long, not a scan: 100,000 recipients must not cost 10^10
        // comparisons. A few are compared directly (a set costs more than that for one).
        const FEW: usize = 16;
        let mut seen: Option<HashSet<String>> = None;
        let mut add_rcpts = |list: &str| -> Result<()> {
            for m in parse_list(list)? {
                let new = match &mut seen {
                    Some(set) => set.insert(m.addr.to_ascii_lowercase()),
                    None => !rcpts.iter().any(|r| r.eq_ignore_ascii_case(&m.addr)),
                };
                if new {
                    rcpts.push(m.addr);
                    if seen.is_none() && rcpts.len() > FEW {
                        seen = Some(rcpts.iter().map(|r| r.to_ascii_lowercase()).collect());
                    }
                }
            }
            Ok(())
        };

        let to = sanitize_line(&self.to);
        add_rcpts(&to)?;

        let mut out_headers: Vec<Header> = Vec::new();
        let mut return_path = None;
        let mut from_addr = None;
        let mut message_id = None;
        let (mut has_date, mut has_mime_version) = (false, false);
        let mut content_type: Option<String> = None;
        let mut transfer_encoding: Option<String> = None;
        for h in &self.headers {
            check_name(&h.name)?;
            check_value(&h.name, &h.value)?;
            let value = crlf_folding(&h.value);
            let value: &str = &value;
            let lname = h.name.to_ascii_lowercase();
            match lname.as_str() {
                "to" | "cc" | "bcc" => add_rcpts(value)?,
                "return-path" => {
                    let mb = parse_mailbox(value)?;
                    return_path = Some(mb.addr);
                    // The receiving MTA writes Return-Path; one in a submitted message is wrong.
                    continue;
                }
                "from" if from_addr.is_none() => {
                    from_addr = parse_list(value)?.into_iter().next().map(|m| m.addr);
                }
                // An empty Message-ID names nothing (RFC 5322 wants an id): one is made, as
                // for a message without the header, and smtp_send() returns that.
                "message-id" if unfold(value).trim().is_empty() => continue,
                "message-id" => message_id = Some(value.trim().to_string()),
                "date" => has_date = true,
                "mime-version" => has_mime_version = true,
                "content-type" => content_type = Some(unfold(value).trim().to_lowercase()),
                "content-transfer-encoding" => {
                    transfer_encoding = Some(unfold(value).trim().to_lowercase());
                }
                _ => {}
            }
            if lname == "bcc" {
                continue;
            }
            out_headers.push(Header::new(&h.name, encode_value(&lname, value)?));
        }

        if rcpts.is_empty() {
            return Err(Error::Message(
                "no recipient: give at least one address in To (or in Cc/Bcc headers)".into(),
            ));
        }

        let from =
            match (&self.envelope_from, return_path, from_addr.clone()) {
                // `-f ''`: the null sender, as sendmail takes it (bounces, auto-replies).
                (Some(f), _, _) if f.trim().is_empty() => String::new(),
                (Some(f), _, _) => check_addr(f.trim())?,
                (None, Some(rp), _) => rp,
                (None, None, Some(f)) => f,
                (None, None, None) => match self.default_from.as_deref().map(str::trim) {
                    Some(d) if !d.is_empty() => parse_mailbox(d)?.addr,
                    _ => return Err(Error::Message(
                        "no sender: add a From header (for example \"From: wiki@example.org\"), \
                         or set sendmail_from in php.ini"
                            .into(),
                    )),
                },
            };

        let message_id = match message_id {
            Some(id) => id,
            None => generate_message_id(&self.idhost),
        };

        let mut head: Vec<Header> = Vec::new();
        if !has_date {
            head.push(Header::new("Date", rfc5322_date(SystemTime::now())));
        }
        if from_addr.is_none() {
            head.push(Header::new("From", from.clone()));
        }
        if !to.is_empty() {
            head.push(Header::new("To", encode_value("to", &to)?));
        }
        head.push(Header::new(
            "Subject",
            encode_unstructured(&sanitize_line(&self.subject)),
        ));
        if !out_headers.iter().any(|h| h.is("message-id")) {
            head.push(Header::new("Message-ID", message_id.clone()));
        }
        head.extend(out_headers);

        let scan = scan_body(self.body);
        let (longest, body_eight_bit) = (scan.longest, scan.eight_bit);
        let single_part = !content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("multipart/") || t.starts_with("message/"));
        let reencodable =
            single_part && matches!(transfer_encoding.as_deref(), None | Some("7bit" | "8bit"));
        let form = match (longest > MAX_LINE, reencodable) {
            (false, _) => BodyForm::Lines,
            (true, true) => BodyForm::QuotedPrintable,
            (true, false) => BodyForm::Folded,
        };
        let utf8_text = body_eight_bit && std::str::from_utf8(self.body).is_ok();
        if form == BodyForm::QuotedPrintable {
            // No line over 998 octets goes on the wire: re-encoded, as PHPMailer does.
            head.retain(|h| !h.is("content-transfer-encoding"));
            if !has_mime_version {
                head.push(Header::new("MIME-Version", "1.0"));
            }
            if content_type.is_none() && utf8_text {
                head.push(Header::new("Content-Type", "text/plain; charset=UTF-8"));
            }
            head.push(Header::new("Content-Transfer-Encoding", "quoted-printable"));
        } else if utf8_text && content_type.is_none() {
            // Only what the caller left out: a second Content-Transfer-Encoding would
            // contradict theirs.
            if !has_mime_version {
                head.push(Header::new("MIME-Version", "1.0"));
            }
            head.push(Header::new("Content-Type", "text/plain; charset=UTF-8"));
            if transfer_encoding.is_none() {
                head.push(Header::new("Content-Transfer-Encoding", "8bit"));
            }
        }

        // The body's size first (a counting pass), so the one buffer is allocated once: the
        // headers go in, then the body in one pass over the caller's bytes.
        let mut size = Count(scan.lines_size);
        if form != BodyForm::Lines {
            size = Count(0);
            form.write(self.body, &mut size);
        }
        let mut data = Vec::with_capacity(4096 + size.0);
        for h in &head {
            write_header(&mut data, h)?;
        }
        data.extend_from_slice(b"\r\n");
        let body_start = data.len();
        data.reserve_exact(size.0 + 2);
        form.write(self.body, &mut data);
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        // Address headers hold non-ASCII only in a UTF-8 local part: display names are
        // encoded, domains are A-labels.
        let smtputf8 = !from.is_ascii()
            || rcpts.iter().any(|r| !r.is_ascii())
            || head.iter().any(|h| {
                !h.value.is_ascii()
                    && ADDRESS_HEADERS.contains(&h.name.to_ascii_lowercase().as_str())
            });
        let eight_bit = (body_eight_bit && form != BodyForm::QuotedPrintable)
            || data[..body_start].iter().any(|&b| b >= 0x80);
        Ok(Prepared {
            from,
            rcpts,
            eight_bit,
            body_start,
            body_reencodable: reencodable,
            data,
            message_id,
            dsn: self.dsn.clone(),
            smtputf8,
            require_tls: self.require_tls,
        })
    }
}

/// Structured fields whose syntax has no room for RFC 2047 encoded-words (RFC 2047 section 5):
/// non-ASCII there is left as it is (the message then goes as 8-bit), never encoded.
const STRUCTURED_HEADERS: &[&str] = &[
    "message-id",
    "in-reply-to",
    "references",
    "date",
    "resent-date",
    "resent-message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-disposition",
    "received",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-post",
    "list-help",
    "list-subscribe",
    "list-owner",
    "list-archive",
    "dkim-signature",
    "auto-submitted",
];

/// Non-ASCII values are RFC 2047 encoded where RFC 2047 allows it: the display names of
/// address headers (an encoded word must not hold an address) and unstructured headers (as a
/// whole, unfolded first so no line break ends up inside an encoded word).
fn encode_value(lname: &str, value: &str) -> Result<String> {
    if plain_when_unfolded(value) || STRUCTURED_HEADERS.contains(&lname) {
        return Ok(value.to_string());
    }
    if ADDRESS_HEADERS.contains(&lname) {
        let list = parse_list(value)?;
        return Ok(list
            .iter()
            .map(|m| m.to_header())
            .collect::<Vec<_>>()
            .join(",\r\n "));
    }
    Ok(encode_unstructured(value))
}

/// An unstructured value: as it is when plain ASCII, else unfolded and encoded.
fn encode_unstructured(value: &str) -> String {
    if plain_when_unfolded(value) {
        value.to_string()
    } else {
        encode_text(&unfold(value))
    }
}

/// Whether the value, its CRLFs taken out, is plain header text (no copy when it has no CR).
fn plain_when_unfolded(value: &str) -> bool {
    if value.contains('\r') {
        is_plain_header_text(&value.replace("\r\n", ""))
    } else {
        is_plain_header_text(value)
    }
}

/// RFC 5322 unfolding: the line breaks go, the white space after them stays.
fn unfold(value: &str) -> String {
    value.replace("\r\n", "").replace('\n', "")
}

/// LF folding (which PHP accepts) as CRLF folding: values are checked to break lines only to
/// fold them, so every LF without a CR before it starts a continuation.
fn crlf_folding(value: &str) -> Cow<'_, str> {
    if !value.contains('\n') {
        return Cow::Borrowed(value);
    }
    Cow::Owned(value.replace("\r\n", "\n").replace('\n', "\r\n"))
}

/// Writes `Name: value` with CRLF line ends; a line longer than 998 octets (RFC 5322 section
/// 2.1.1) is folded at white space.
fn write_header(out: &mut Vec<u8>, h: &Header) -> Result<()> {
    // The usual header: one short line, written as it is.
    if h.name.len() + 2 + h.value.len() <= 998 && !h.value.contains('\n') {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value.as_bytes());
        out.extend_from_slice(b"\r\n");
        return Ok(());
    }
    let value = h.value.replace("\r\n", "\n");
    let full = format!("{}: {}", h.name, value);
    for (i, line) in full.split('\n').enumerate() {
        if i > 0 {
            // A folded line of nothing but white space is not allowed (RFC 5322 3.2.2).
            if line.trim().is_empty() {
                continue;
            }
            out.extend_from_slice(b"\r\n");
        }
        let mut rest = line;
        while rest.len() > 998 {
            // 998 octets may end inside a UTF-8 character (structured headers keep theirs).
            let mut limit = 998;
            while !rest.is_char_boundary(limit) {
                limit -= 1;
            }
            let cut = rest[..limit]
                .rfind([' ', '\t'])
                .filter(|&p| p > 0)
                .ok_or_else(|| {
                    Error::Message(format!(
                        "header \"{}\" has a line longer than 998 characters with no space to \
                         fold it at",
                        printable(&h.name)
                    ))
                })?;
            out.extend_from_slice(&rest.as_bytes()[..cut]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[cut..];
        }
        out.extend_from_slice(rest.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(to: &str, headers: &[(&str, &str)]) -> Draft<'static> {
        Draft {
            to: to.into(),
            subject: "Hi".into(),
            body: b"Hello\n",
            headers: headers.iter().map(|(n, v)| Header::new(*n, *v)).collect(),
            idhost: "wiki.example.org".into(),
            ..Default::default()
        }
    }

    fn text(p: &Prepared) -> String {
        String::from_utf8(p.data.clone()).unwrap()
    }

    fn header_lines(p: &Prepared) -> Vec<String> {
        let t = text(p);
        let head = t.split("\r\n\r\n").next().unwrap().to_string();
        head.split("\r\n").map(String::from).collect()
    }

    #[test]
    fn basic_message() {
        let p = draft("you@example.org", &[("From", "Wiki <wiki@example.org>")])
            .build()
            .unwrap();
        assert_eq!(p.from, "wiki@example.org");
        assert_eq!(p.rcpts, ["you@example.org"]);
        let lines = header_lines(&p);
        assert!(lines[0].starts_with("Date: "));
        assert!(lines.contains(&"To: you@example.org".to_string()));
        assert!(lines.contains(&"Subject: Hi".to_string()));
        assert!(lines.contains(&"From: Wiki <wiki@example.org>".to_string()));
        assert!(lines.contains(&format!("Message-ID: {}", p.message_id)));
        assert!(p.message_id.ends_with("@wiki.example.org>"));
        assert!(text(&p).ends_with("\r\n\r\nHello\r\n"));
        assert!(!p.eight_bit);
    }

    #[test]
    fn bcc_receives_but_is_not_shown_and_cc_is_kept() {
        let p = draft(
            "a@example.org",
            &[
                ("From", "w@example.org"),
                ("Cc", "b@example.org"),
                ("Bcc", "c@example.org, A@example.org"),
            ],
        )
        .build()
        .unwrap();
        assert_eq!(p.rcpts, ["a@example.org", "b@example.org", "c@example.org"]);
        assert!(!text(&p).to_ascii_lowercase().contains("bcc"));
        assert!(text(&p).contains("Cc: b@example.org\r\n"));
    }

    #[test]
    fn recipients_once_each_however_many() {
        for n in [1, 15, 16, 17, 18, 40] {
            let list: Vec<String> = (0..n).map(|i| format!("r{i}@example.org")).collect();
            let again: Vec<String> = list.iter().rev().map(|r| r.to_uppercase()).collect();
            let d = draft(
                &list.join(", "),
                &[("From", "w@example.org"), ("Cc", &again.join(", "))],
            );
            assert_eq!(d.build().unwrap().rcpts, list, "{n}");
        }
    }

    #[test]
    fn envelope_sender_priority() {
        let mut d = draft("a@example.org", &[("From", "f@example.org")]);
        d.default_from = Some("default@example.org".into());
        assert_eq!(d.build().unwrap().from, "f@example.org");
        d.headers
            .push(Header::new("Return-Path", "<bounce@example.org>"));
        let p = d.build().unwrap();
        assert_eq!(p.from, "bounce@example.org");
        assert!(!text(&p).contains("Return-Path"));
        d.envelope_from = Some("minus-f@example.org".into());
        assert_eq!(d.build().unwrap().from, "minus-f@example.org");
        // `-f ''`: the null sender.
        d.envelope_from = Some(String::new());
        assert_eq!(d.build().unwrap().from, "");

        let mut d = draft("a@example.org", &[]);
        assert!(d.build().unwrap_err().to_string().contains("no sender"));
        d.default_from = Some("default@example.org".into());
        let p = d.build().unwrap();
        assert_eq!(p.from, "default@example.org");
        assert!(text(&p).contains("From: default@example.org\r\n"));
    }

    #[test]
    fn utf8_subject_and_names_are_encoded_and_body_gets_mime_headers() {
        let mut d = draft(
            "Jörg <j@example.org>",
            &[("From", "Wiki Ü <w@example.org>")],
        );
        d.subject = "Grüße".into();
        d.body = "Schöne Grüße\n".as_bytes();
        let p = d.build().unwrap();
        let t = text(&p);
        assert!(t.contains("Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"), "{t}");
        assert!(
            t.contains("To: =?UTF-8?B?SsO2cmc=?= <j@example.org>\r\n"),
            "{t}"
        );
        assert!(
            t.contains("From: =?UTF-8?B?V2lraSDDnA==?= <w@example.org>\r\n"),
            "{t}"
        );
        assert!(t.contains("Content-Type: text/plain; charset=UTF-8\r\n"));
        assert!(p.eight_bit);
    }

    #[test]
    fn control_characters_in_to_and_subject_cannot_add_headers() {
        let mut d = draft("a@example.org", &[("From", "w@example.org")]);
        d.subject = "Hi\r\nBcc: evil@example.org".into();
        let p = d.build().unwrap();
        assert_eq!(p.rcpts, ["a@example.org"]);
        assert!(text(&p).contains("Subject: Hi  Bcc: evil@example.org\r\n"));

        let d = draft(
            "a@example.org\r\nBcc: evil@example.org",
            &[("From", "w@example.org")],
        );
        assert!(
            d.build().is_err(),
            "the sanitized To is not an address list"
        );
    }

    #[test]
    fn blank_folded_lines_are_dropped() {
        let p = draft(
            "a@example.org",
            &[("From", "w@example.org"), ("X-A", "a\r\n \r\n b")],
        )
        .build()
        .unwrap();
        assert!(text(&p).contains("X-A: a\r\n b\r\n"), "{}", text(&p));
    }

    #[test]
    fn body_line_ends_become_crlf() {
        assert_eq!(normalize_crlf(b"a\nb\rc\r\nd"), b"a\r\nb c\r\nd");
    }

    #[test]
    fn the_scan_counts_what_the_lines_form_writes() {
        for body in [
            &b""[..],
            b"\n",
            b"\r",
            b"a",
            b"a\n",
            b"a\r\r\nb\r",
            b"a\rb\n\n\r\n.\n",
            "Gr\u{fc}\u{df}e\r\n\r\n".as_bytes(),
            b"\n\n\nx\r\ny\rz",
        ] {
            let mut count = Count(0);
            BodyForm::Lines.write(body, &mut count);
            let mut written = Vec::new();
            BodyForm::Lines.write(body, &mut written);
            assert_eq!(body::scan_body(body).lines_size, count.0, "{body:?}");
            assert_eq!(count.0, written.len(), "{body:?}");
        }
    }

    fn body_of(p: &Prepared) -> &[u8] {
        &p.data[p.body_start..]
    }

    #[test]
    fn no_body_line_over_998_octets() {
        let long = format!("short\n{}\nend\n", "x".repeat(3000));
        // A plain body becomes quoted-printable.
        let mut d = draft("a@example.org", &[("From", "w@example.org")]);
        d.body = long.as_bytes();
        let p = d.build().unwrap();
        let lines = header_lines(&p);
        assert!(
            lines.contains(&"MIME-Version: 1.0".to_string()),
            "{lines:?}"
        );
        assert!(lines.contains(&"Content-Transfer-Encoding: quoted-printable".to_string()));
        assert!(text(&p).split("\r\n").all(|l| l.len() <= 998));
        let body = String::from_utf8(body_of(&p).to_vec()).unwrap();
        assert_eq!(body.replace("=\r\n", ""), long.replace('\n', "\r\n"));
        // A given 8bit encoding is replaced, not doubled.
        let mut d = draft(
            "a@example.org",
            &[
                ("From", "w@example.org"),
                ("Content-Transfer-Encoding", "8bit"),
            ],
        );
        d.body = long.as_bytes();
        let p = d.build().unwrap();
        assert_eq!(text(&p).matches("Content-Transfer-Encoding").count(), 1);
        // A multipart body is folded as Postfix folds it.
        let mut d = draft(
            "a@example.org",
            &[
                ("From", "w@example.org"),
                ("Content-Type", "multipart/mixed; boundary=b"),
            ],
        );
        d.body = long.as_bytes();
        let p = d.build().unwrap();
        assert!(!text(&p).contains("quoted-printable"));
        let body = String::from_utf8(body_of(&p).to_vec()).unwrap();
        assert!(body.split("\r\n").all(|l| l.len() <= 998));
        assert_eq!(body.replace("\r\n ", ""), long.replace('\n', "\r\n"));
    }

    #[test]
    fn eight_bit_bodies_for_a_seven_bit_server() {
        let mut d = draft("a@example.org", &[("From", "w@example.org")]);
        d.body = "Grüße\n".as_bytes();
        let p = d.build().unwrap();
        assert!(p.eight_bit);
        let seven = p.seven_bit().unwrap();
        assert!(!seven.eight_bit && seven.data.is_ascii());
        let t = String::from_utf8(seven.data.clone()).unwrap();
        assert!(
            t.contains("Content-Type: text/plain; charset=UTF-8\r\n"),
            "{t}"
        );
        assert!(
            t.contains("Content-Transfer-Encoding: quoted-printable\r\n"),
            "{t}"
        );
        assert_eq!(t.matches("Content-Transfer-Encoding").count(), 1, "{t}");
        assert_eq!(t.matches("MIME-Version").count(), 1, "{t}");
        assert!(t.ends_with("\r\n\r\nGr=C3=BC=C3=9Fe\r\n"), "{t}");
        // A 7-bit message is not copied.
        let ascii = draft("a@example.org", &[("From", "w@example.org")])
            .build()
            .unwrap();
        assert!(matches!(
            ascii.seven_bit().unwrap(),
            std::borrow::Cow::Borrowed(_)
        ));
        // A multipart body with 8-bit parts cannot be converted.
        let mut d = draft(
            "a@example.org",
            &[
                ("From", "w@example.org"),
                ("Content-Type", "multipart/mixed; boundary=b"),
            ],
        );
        d.body = "--b\n\nGrüße\n--b--\n".as_bytes();
        let e = d.build().unwrap().seven_bit().unwrap_err().to_string();
        assert!(
            e.contains("8BITMIME") && e.contains("quoted-printable"),
            "{e}"
        );
    }

    #[test]
    fn an_empty_message_id_is_replaced_by_a_made_one() {
        let p = draft(
            "a@example.org",
            &[("From", "w@example.org"), ("Message-ID", " ")],
        )
        .build()
        .unwrap();
        assert!(
            p.message_id.ends_with("@wiki.example.org>"),
            "{}",
            p.message_id
        );
        let lines = header_lines(&p);
        let ids: Vec<_> = lines
            .iter()
            .filter(|l| l.starts_with("Message-ID:"))
            .collect();
        assert_eq!(ids, [&format!("Message-ID: {}", p.message_id)]);
    }

    #[test]
    fn given_message_id_is_kept_and_returned() {
        let p = draft(
            "a@example.org",
            &[("From", "w@example.org"), ("Message-ID", "<x@y>")],
        )
        .build()
        .unwrap();
        assert_eq!(p.message_id, "<x@y>");
        assert_eq!(text(&p).matches("Message-ID").count(), 1);
    }

    #[test]
    fn long_header_lines_are_folded() {
        let long = vec!["word"; 400].join(" ");
        let p = draft(
            "a@example.org",
            &[("From", "w@example.org"), ("X-Long", &long)],
        )
        .build()
        .unwrap();
        assert!(header_lines(&p).iter().all(|l| l.len() <= 998));
        let unbreakable = "x".repeat(1200);
        let d = draft(
            "a@example.org",
            &[("From", "w@example.org"), ("X-Long", &unbreakable)],
        );
        assert!(d.build().is_err());
    }

    #[test]
    fn lf_folded_address_lists_are_addresses() {
        let p = draft(
            "to@example.test",
            &[
                ("From", "w@example.test"),
                ("Cc", "b@example.test,\n c@example.test"),
            ],
        )
        .build()
        .expect("LF folding in Cc");
        assert_eq!(
            p.rcpts,
            ["to@example.test", "b@example.test", "c@example.test"]
        );
        assert!(
            header_lines(&p).contains(&"Cc: b@example.test,".to_string()),
            "{:?}",
            header_lines(&p)
        );
    }

    #[test]
    fn a_folded_utf8_value_is_unfolded_before_encoding() {
        let p = draft(
            "to@example.test",
            &[
                ("From", "w@example.test"),
                ("X-Note", "Gr\u{fc}\u{df}e\r\n und mehr"),
            ],
        )
        .build()
        .unwrap();
        // One line, the break gone: only the non-ASCII word is encoded.
        assert!(
            header_lines(&p).contains(&"X-Note: =?UTF-8?B?R3LDvMOfZQ==?= und mehr".to_string()),
            "{:?}",
            header_lines(&p)
        );
        // The subject too.
        let mut d = draft("to@example.test", &[("From", "w@example.test")]);
        d.subject = "Gr\u{fc}\u{df}e\r\n und mehr".into();
        let p = d.build().unwrap();
        assert!(
            header_lines(&p).contains(&"Subject: =?UTF-8?B?R3LDvMOfZQ==?= und mehr".to_string()),
            "{:?}",
            header_lines(&p)
        );
    }

    #[test]
    fn structured_headers_are_never_encoded_words() {
        let p = draft(
            "to@example.test",
            &[
                ("From", "w@example.test"),
                ("In-Reply-To", "<caf\u{e9}@example.test>"),
                ("X-Unstructured", "caf\u{e9}"),
            ],
        )
        .build()
        .unwrap();
        let lines = header_lines(&p);
        assert!(
            lines.contains(&"In-Reply-To: <caf\u{e9}@example.test>".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"X-Unstructured: =?UTF-8?B?Y2Fmw6k=?=".to_string()),
            "{lines:?}"
        );
        assert!(p.eight_bit);
    }

    #[test]
    fn long_non_ascii_structured_lines_fold_on_character_boundaries() {
        let long = format!("text/plain; x=\"{}\" y=1", "w\u{f6}rd ".repeat(200));
        let p = draft(
            "to@example.test",
            &[("From", "w@example.test"), ("Content-Type", &long)],
        )
        .build()
        .expect("folded, no panic");
        assert!(header_lines(&p).iter().all(|l| l.len() <= 998));
    }
}
