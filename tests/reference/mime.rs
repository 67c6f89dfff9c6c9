//! Reading a delivered message: header fields and body, Postfix's line breaks undone, header
//! text as a reader sees it (encoded words decoded), bodies decoded, the harness's tag and
//! Postfix's bounces. No rules here: compare.rs says what must match.

use std::collections::BTreeSet;

/// One header field: its name as written, and its value with folding still in it.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub value: Vec<u8>,
}

impl Field {
    pub fn key(&self) -> String {
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

pub fn leading_number(v: &[u8]) -> Option<usize> {
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

pub fn media_type(v: &[u8]) -> String {
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
pub fn raw_text(b: &[u8]) -> String {
    let mut out = String::new();
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|&c| c as char));
    }
    out
}

/// `=?charset?B|Q?text?=` at the start of `b`: its text and length.
pub fn encoded_word(b: &[u8]) -> Option<(String, usize)> {
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

pub fn alnum(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The set of addr-specs (`local@domain`, lower case) written in an address field's text.
pub fn addresses(t: &str) -> BTreeSet<String> {
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

pub fn base64_decode(b: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let clean: Vec<u8> = b
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub fn split_crlf(b: &[u8]) -> Vec<&[u8]> {
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
