//! What the two sides delivered for one case, and the rules that say whether the extension's
//! delivery is as safe and as intact as the reference's (PHP's own mail() through Postfix).
//!
//! The rules (tests/reference/README.md explains each):
//! - the outcome is true: `true` means a message arrived, `false` means none did;
//! - the envelope recipients are the same set (case-insensitive); the extension may refuse a
//!   call the reference delivers, never deliver to more or other recipients, and never
//!   deliver what the reference did not deliver at all;
//! - the envelope sender is the same when the call gives one with `-f` (without `-f` the
//!   reference's sender is the Unix user running PHP, which says nothing about the extension);
//! - no header field of the extension's that the reference does not deliver too: per name, no
//!   more fields than the reference has (plus the ones in `EXTENSION_ADDS`), the same text for
//!   unstructured fields (unfolded, encoded words decoded) and no address the reference's
//!   field lacks for address fields;
//! - the same decoded body (quoted-printable and base64 undone, CRLF = LF, trailing line
//!   ends ignored; Postfix's own breaking of lines over 998 octets undone first);
//! - no line over 998 octets in what the extension sent, and no 8-bit byte to a server
//!   without 8BITMIME.

use std::collections::{BTreeMap, BTreeSet};

use super::case::Case;

/// Headers neither side's value is compared for, and why.
pub const IGNORED: &[(&str, &str)] = &[
    (
        "x-harness-case",
        "the harness's own tag, the same on both sides (it finds the case's mail)",
    ),
    (
        "received",
        "Postfix's trace header for the sendmail submission; the extension adds none",
    ),
];

/// Headers the extension may add although the reference does not deliver them; their values
/// are not compared (each side makes its own, or the body comparison covers them).
pub const EXTENSION_ADDS: &[(&str, &str)] = &[
    (
        "date",
        "required by RFC 5322; Postfix adds its own too, so the values differ",
    ),
    (
        "message-id",
        "the extension's own id (smtp.idhost); Postfix adds its own too",
    ),
    (
        "mime-version",
        "declares the MIME headers the extension adds for an 8-bit or re-encoded body",
    ),
    (
        "content-type",
        "charset of an 8-bit body; the media type must still match the reference's",
    ),
    (
        "content-transfer-encoding",
        "when the extension re-encodes (quoted-printable) a body the reference sends as it is \
         or breaks; the decoded bodies are compared instead",
    ),
];

/// What Postfix's sendmail says when it cannot take an input at all, for reasons other than
/// the recipients: a command line it does not understand (`-f` without an address, unknown
/// options) and records its queue file format cannot hold.
const SENDMAIL_CANNOT: &[&str] = &[
    "fatal: usage:",
    "invalid option",
    "malformed input",
    "illegal length",
    "queue file write error",
    "unexpected EOF",
];

/// Fields whose value is a list of addresses: compared as sets of addr-specs, because Postfix
/// rewrites these for a sendmail submission (qualifies, re-quotes, drops comments).
const ADDRESS_FIELDS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "sender",
    "resent-from",
    "resent-to",
    "resent-cc",
    "resent-sender",
    "return-path",
];

/// One message as a capture server received it.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub mail_from: String,
    pub rcpts: Vec<String>,
    /// The data (dot-stuffing undone), CRLF line ends as sent.
    pub data: Vec<u8>,
}

/// What mail() said for a case on one side.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub ok: bool,
    pub warnings: Vec<String>,
    /// The PHP process died in this call (its exit status).
    pub crashed: Option<String>,
    /// Not sent this way (smtp_send() has no form of additional_params).
    pub skipped: bool,
}

/// Everything one side did for one case.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub outcome: Outcome,
    pub arrivals: Vec<Arrival>,
    /// A bounce Postfix sent for the case (reference only): its report text.
    pub bounce: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Both delivered, and the delivery passes every rule.
    Same,
    /// Neither delivered (both refused, or the reference bounced and the extension refused):
    /// why, as each side said it.
    NeitherDelivered(String),
    /// The extension refused a call the reference delivered (allowed): its warning.
    Refused(String),
    /// Postfix's sendmail could not take the input for reasons that say nothing about what
    /// the message should be (a usage error from the parameters, a record it cannot store):
    /// the reference has no answer, so the extension's delivery is not judged. Its words.
    NoReference(String),
    /// Rules broken, each said in a line.
    Different(Vec<String>),
}

/// `mail_api`: the extension side is mail(); for smtp_send() a reference that PHP's mail()
/// refused on an argument's type (a list for From or Cc, which smtp_send() takes) is no
/// reference.
pub fn compare(case: &Case, reference: &Side, ext: &Side, mail_api: bool) -> Verdict {
    let mut problems = Vec::new();
    if let Some(status) = &ext.outcome.crashed {
        problems.push(format!(
            "the extension's PHP process died in this call ({status})"
        ));
        return Verdict::Different(problems);
    }
    let warning = ext.outcome.warnings.join(" | ");
    match (ext.outcome.ok, ext.arrivals.is_empty()) {
        (true, true) => {
            problems.push("the extension's mail() returned true, nothing arrived".into())
        }
        (false, false) => problems.push(format!(
            "the extension's mail() returned false ({warning}), yet a message arrived"
        )),
        _ => {}
    }
    if ext.arrivals.is_empty() {
        return if !problems.is_empty() {
            Verdict::Different(problems)
        } else if reference.arrivals.is_empty() {
            let why = match (&reference.bounce, reference.outcome.ok) {
                (Some(b), _) => format!("bounced: {b}"),
                (None, true) => "mail() returned true, nothing arrived".into(),
                (None, false) if reference.outcome.warnings.is_empty() => {
                    "mail() returned false (sendmail failed)".into()
                }
                (None, false) => reference.outcome.warnings.join(" | "),
            };
            Verdict::NeitherDelivered(format!("reference: {why}; extension: {warning}"))
        } else {
            Verdict::Refused(warning)
        };
    }
    if ext.arrivals.len() > 1 {
        problems.push(format!(
            "the extension sent {} messages for one call",
            ext.arrivals.len()
        ));
    }
    if reference.arrivals.is_empty() {
        if let Some(w) = reference.outcome.warnings.iter().find(|w| {
            SENDMAIL_CANNOT.iter().any(|s| w.contains(s))
                || (!mail_api && w.starts_with("TypeError:"))
        }) {
            return if problems.is_empty() {
                Verdict::NoReference(w.clone())
            } else {
                Verdict::Different(problems)
            };
        }
        let why = match (&reference.bounce, reference.outcome.ok) {
            (Some(b), _) => format!("Postfix bounced it: {b}"),
            (None, false) => format!(
                "PHP's mail() refused it: {}",
                reference.outcome.warnings.join(" | ")
            ),
            (None, true) => "mail() returned true, nothing arrived".into(),
        };
        problems.push(format!(
            "the reference delivered nothing ({why}); the extension delivered to {:?}",
            ext.arrivals[0].rcpts
        ));
        return Verdict::Different(problems);
    }

    // The envelope. Postfix sends one transaction per message here, but a recipient list is
    // still read as the union of whatever arrived.
    let rcpts = |s: &Side| -> BTreeSet<String> {
        s.arrivals
            .iter()
            .flat_map(|a| a.rcpts.iter().map(|r| r.to_ascii_lowercase()))
            .collect()
    };
    let (r, e) = (rcpts(reference), rcpts(ext));
    let more: Vec<_> = e.difference(&r).collect();
    let fewer: Vec<_> = r.difference(&e).collect();
    if !more.is_empty() {
        problems.push(format!(
            "the extension delivered to {more:?}, which the reference did not (reference: {r:?})"
        ));
    }
    if !fewer.is_empty() {
        problems.push(format!(
            "the extension did not deliver to {fewer:?} (reference: {r:?})"
        ));
    }
    let (rm, em) = (&reference.arrivals[0], &ext.arrivals[0]);
    if case.params.is_some() && !rm.mail_from.eq_ignore_ascii_case(&em.mail_from) {
        problems.push(format!(
            "envelope sender: reference <{}>, extension <{}>",
            rm.mail_from, em.mail_from
        ));
    }

    let reference_data = undo_postfix_breaks(&rm.data);
    let (rh, rbody) = split_message(&reference_data);
    let (eh, ebody) = split_message(&em.data);
    compare_headers(&rh, &eh, &mut problems);

    let (rb, eb) = (decoded_body(&rh, rbody), decoded_body(&eh, ebody));
    if rb != eb {
        let at = rb.iter().zip(&eb).take_while(|(a, b)| a == b).count();
        let show = |b: &[u8]| {
            let s = at.saturating_sub(20);
            String::from_utf8_lossy(
                &b[s..b.len().min(at + 40)]
                    .escape_ascii()
                    .collect::<Vec<_>>(),
            )
            .into_owned()
        };
        problems.push(format!(
            "decoded bodies differ at octet {at} of {}/{}: reference \"{}\", extension \"{}\"",
            rb.len(),
            eb.len(),
            show(&rb),
            show(&eb)
        ));
    }

    for (n, line) in em.data.split(|&b| b == b'\n').enumerate() {
        let len = line.strip_suffix(b"\r").unwrap_or(line).len();
        if len > 998 {
            problems.push(format!(
                "the extension sent a line of {len} octets (line {})",
                n + 1
            ));
            break;
        }
    }
    if case.seven_bit && em.data.iter().any(|&b| b >= 0x80) {
        problems.push("the extension sent 8-bit data to a server without 8BITMIME".into());
    }

    if problems.is_empty() {
        Verdict::Same
    } else {
        Verdict::Different(problems)
    }
}

// ---------------------------------------------------------------------------------------------
// Messages

/// One header field: its name as written, and its value with folding still in it.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub value: Vec<u8>,
}

impl Field {
    fn key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// Postfix's SMTP client breaks a line over `smtp_line_length_limit` (998) by inserting CRLF +
/// space, so that every piece on the wire is 998 octets (header and body alike). Undone here
/// so that the reference's text can be compared with an extension that re-encoded the line
/// instead: a line of exactly 998 octets followed by one that starts with a space is taken
/// for such a break (an input with exactly that shape would be misread; the generator makes
/// no such line).
pub fn undo_postfix_breaks(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut previous_full = false;
    for (n, line) in split_crlf(data).into_iter().enumerate() {
        if previous_full && line.first() == Some(&b' ') {
            out.extend_from_slice(&line[1..]);
        } else {
            if n > 0 {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(line);
        }
        // Each piece Postfix sends, the space it starts with included, is 998 octets.
        previous_full = line.len() == 998;
    }
    out
}

/// Header fields and body. The header section ends at the first empty line; a line that is
/// neither a field nor a continuation becomes a field named `<no colon: ...>`, so that a
/// header line the extension made out of nothing still shows.
pub fn split_message(data: &[u8]) -> (Vec<Field>, &[u8]) {
    let (head, body) = if data.starts_with(b"\r\n") {
        (&data[..0], &data[2..])
    } else {
        match find(data, b"\r\n\r\n") {
            Some(i) => (&data[..i], &data[i + 4..]),
            None => (data, &data[data.len()..]),
        }
    };
    let mut fields: Vec<Field> = Vec::new();
    for line in split_crlf(head) {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some(f) = fields.last_mut() {
                f.value.extend_from_slice(b"\r\n");
                f.value.extend_from_slice(line);
                continue;
            }
        }
        match line.iter().position(|&b| b == b':') {
            Some(c) => fields.push(Field {
                name: String::from_utf8_lossy(&line[..c]).trim_end().to_string(),
                value: line[c + 1..].to_vec(),
            }),
            None => fields.push(Field {
                name: format!("<no colon: {}>", String::from_utf8_lossy(line)),
                value: Vec::new(),
            }),
        }
    }
    (fields, body)
}

/// The case's tag (`X-Harness-Case: N`) in a message's header section.
pub fn tag(data: &[u8]) -> Option<usize> {
    let (fields, _) = split_message(data);
    fields
        .iter()
        .find(|f| f.key() == "x-harness-case")
        .and_then(|f| leading_number(&f.value))
}

fn leading_number(v: &[u8]) -> Option<usize> {
    let s = String::from_utf8_lossy(v);
    let digits: String = s
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Where a bounce names the case (its copy of the returned headers), and its report text.
pub fn bounce_of(data: &[u8]) -> Option<(usize, String)> {
    let at = find(data, b"X-Harness-Case:")?;
    let id = leading_number(&data[at + b"X-Harness-Case:".len()..])?;
    let text = String::from_utf8_lossy(data);
    let why = text
        .lines()
        .find(|l| l.starts_with("Diagnostic-Code:") || l.contains("said:"))
        .or_else(|| text.lines().find(|l| l.starts_with("<")))
        .unwrap_or("(no reason given)")
        .trim()
        .to_string();
    Some((id, why))
}

fn compare_headers(reference: &[Field], ext: &[Field], problems: &mut Vec<String>) {
    let group = |fs: &[Field]| -> BTreeMap<String, Vec<Field>> {
        let mut m: BTreeMap<String, Vec<Field>> = BTreeMap::new();
        for f in fs {
            m.entry(f.key()).or_default().push(f.clone());
        }
        m
    };
    let (r, e) = (group(reference), group(ext));
    let ignored = |k: &str| IGNORED.iter().any(|(n, _)| *n == k);
    let added = |k: &str| EXTENSION_ADDS.iter().any(|(n, _)| *n == k);
    let none = Vec::new();
    for (key, efields) in &e {
        if ignored(key) {
            continue;
        }
        let rfields = r.get(key).unwrap_or(&none);
        let allowed = rfields.len() + usize::from(added(key) && rfields.is_empty());
        if efields.len() > allowed {
            problems.push(format!(
                "the extension delivered {} \"{}\" field(s), the reference {}: {}",
                efields.len(),
                efields[0].name,
                rfields.len(),
                efields
                    .iter()
                    .map(|f| format!("{:?}", show(&f.value)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        }
        if key == "content-type" {
            if let (Some(rf), Some(ef)) = (rfields.first(), efields.first()) {
                let (rt, et) = (media_type(&rf.value), media_type(&ef.value));
                if rt != et {
                    problems.push(format!("media type: reference {rt:?}, extension {et:?}"));
                }
            }
        }
        if added(key) {
            continue;
        }
        for (rf, ef) in rfields.iter().zip(efields) {
            if ADDRESS_FIELDS.contains(&key.as_str()) {
                // Postfix re-quotes what it cannot parse (`x\rBcc: e@x` -> `"Bcc:e"@x`): an
                // address of the extension's counts as the reference's when its letters and
                // digits appear in that order in the reference's field.
                let rt = alnum(&text(&rf.value));
                let extra: Vec<_> = addresses(&text(&ef.value))
                    .into_iter()
                    .filter(|a| !rt.contains(&alnum(a)))
                    .collect();
                if !extra.is_empty() {
                    problems.push(format!(
                        "{}: the extension's field names {extra:?}, the reference's does not \
                         (reference {:?}, extension {:?})",
                        ef.name,
                        show(&rf.value),
                        show(&ef.value)
                    ));
                }
            } else {
                let (rt, et) = (text(&rf.value), text(&ef.value));
                if rt != et {
                    problems.push(format!("{}: reference {rt:?}, extension {et:?}", ef.name));
                }
            }
        }
    }
}

fn show(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(&v.escape_ascii().collect::<Vec<_>>()).into_owned();
    if s.len() > 300 {
        format!("{}...({} octets)", &s[..300], v.len())
    } else {
        s
    }
}

fn media_type(v: &[u8]) -> String {
    let t = text(v);
    t.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A header value as a reader sees it: folding undone, encoded words decoded (whitespace
/// between two of them dropped), raw bytes read as UTF-8 when they are UTF-8 and as Latin-1
/// otherwise, and every run of white space (a lone CR or LF inside a value included: they
/// name no recipient and start no header here, the structure check sees any that did)
/// one space.
pub fn text(value: &[u8]) -> String {
    let mut out = String::new();
    let mut pending_space = String::new();
    let mut last_was_word = false;
    let mut i = 0;
    while i < value.len() {
        if let Some((decoded, len)) = encoded_word(&value[i..]) {
            if !last_was_word {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            last_was_word = true;
            i += len;
            continue;
        }
        let start = i;
        while i < value.len() && !value[i..].starts_with(b"=?") {
            i += 1;
        }
        if i == start {
            i += 1; // a "=?" that is not an encoded word
        }
        let raw = raw_text(&value[start..i]);
        if raw.chars().all(char::is_whitespace) && last_was_word {
            pending_space.push_str(&raw);
            continue;
        }
        out.push_str(&pending_space);
        pending_space.clear();
        out.push_str(&raw);
        last_was_word = false;
    }
    out.push_str(&pending_space);
    out.split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// UTF-8 where the bytes are UTF-8, every other byte as Latin-1 (so that the reference's raw
/// 8-bit bytes and an extension that labels them correctly read the same).
fn raw_text(b: &[u8]) -> String {
    let mut out = String::new();
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|&c| c as char));
    }
    out
}

/// `=?charset?B|Q?text?=` at the start of `b`: its text and length.
fn encoded_word(b: &[u8]) -> Option<(String, usize)> {
    let rest = b.strip_prefix(b"=?")?;
    let q1 = rest.iter().position(|&c| c == b'?')?;
    let charset = String::from_utf8_lossy(&rest[..q1]).to_ascii_lowercase();
    let charset = charset.split('*').next().unwrap_or("").to_string();
    let enc = *rest.get(q1 + 1)?;
    if rest.get(q1 + 2) != Some(&b'?') {
        return None;
    }
    let body = &rest[q1 + 3..];
    let end = find(body, b"?=")?;
    let payload = &body[..end];
    if payload.iter().any(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let bytes = match enc.to_ascii_lowercase() {
        b'b' => base64_decode(payload)?,
        b'q' => qp_decode(
            &payload
                .iter()
                .map(|&c| if c == b'_' { b' ' } else { c })
                .collect::<Vec<_>>(),
        ),
        _ => return None,
    };
    let s = match charset.as_str() {
        "utf-8" | "utf8" | "us-ascii" => String::from_utf8_lossy(&bytes).into_owned(),
        "iso-8859-1" | "latin1" | "windows-1252" | "iso-8859-15" => {
            bytes.iter().map(|&c| c as char).collect()
        }
        _ => return None,
    };
    Some((s, 2 + q1 + 3 + end + 2))
}

fn alnum(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The set of addr-specs (`local@domain`, lower case) written in an address field's text.
fn addresses(t: &str) -> BTreeSet<String> {
    let b = t.as_bytes();
    let local = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&c);
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    let mut out = BTreeSet::new();
    for (at, _) in t.match_indices('@') {
        let mut s = at;
        while s > 0 && local(b[s - 1]) {
            s -= 1;
        }
        let mut e = at + 1;
        while e < b.len() && domain(b[e]) {
            e += 1;
        }
        if s < at && e > at + 1 {
            out.insert(t[s..e].to_ascii_lowercase());
        }
    }
    out
}

/// The body as its reader gets it: the transfer encoding undone (for a single-part body),
/// CRLF read as LF, trailing line ends dropped (PHP's own mail() adds one).
pub fn decoded_body(fields: &[Field], body: &[u8]) -> Vec<u8> {
    let last = |k: &str| {
        fields
            .iter()
            .rev()
            .find(|f| f.key() == k)
            .map(|f| text(&f.value).to_ascii_lowercase())
    };
    let multipart = last("content-type").is_some_and(|t| t.starts_with("multipart/"));
    let decoded = match last("content-transfer-encoding").as_deref() {
        Some("quoted-printable") if !multipart => qp_decode(body),
        Some("base64") if !multipart => base64_decode(body).unwrap_or_else(|| body.to_vec()),
        _ => body.to_vec(),
    };
    let mut out = Vec::with_capacity(decoded.len());
    let mut i = 0;
    while i < decoded.len() {
        if decoded[i..].starts_with(b"\r\n") {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(decoded[i]);
            i += 1;
        }
    }
    while out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

/// Quoted-printable decoding, lenient: a `=` not followed by two hex digits or a line end
/// stays as it is.
pub fn qp_decode(b: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if b[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn base64_decode(b: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let clean: Vec<u8> = b
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_crlf(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = b;
    while let Some(i) = find(rest, b"\r\n") {
        out.push(&rest[..i]);
        rest = &rest[i + 2..];
    }
    out.push(rest);
    out
}

/// The comparison's own helpers on known input (this target has no libtest, so main calls it).
pub fn self_check() {
    {
        assert_eq!(
            text(b" =?UTF-8?B?R3LDvMOfZQ==?= =?UTF-8?Q?_aus?=\r\n K\xf6ln"),
            "Grüße aus Köln"
        );
        assert_eq!(text(b" x@y.org\rBcc: e@e"), "x@y.org Bcc: e@e");
    }
    {
        let mut d = vec![b'x'; 998];
        d.extend_from_slice(b"\r\n ");
        d.extend(vec![b'x'; 997]);
        d.extend_from_slice(b"\r\n xx\r\nnext");
        let mut want = vec![b'x'; 998 + 997 + 2];
        want.extend_from_slice(b"\r\nnext");
        assert_eq!(undo_postfix_breaks(&d), want);
    }
}
