//! Byte-level encodings: base64 and RFC 2047 encoded-words for headers; CRLF line ends,
//! quoted-printable and 998-octet folding for bodies. The body encoders write to an `Out`, so
//! one pass can count the bytes (`Count`) and the next write them into a buffer of exactly
//! that size.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in input.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// True when the text can stand in a header as it is: printable ASCII, spaces and tabs.
pub fn is_plain_header_text(s: &str) -> bool {
    s.bytes()
        .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
}

/// Encodes text as RFC 2047 encoded-words (`=?UTF-8?B?...?=`) when it is not plain ASCII,
/// folded so that no word is longer than 75 characters. Plain text comes back as it is.
pub fn encode_words(s: &str) -> String {
    if is_plain_header_text(s) {
        return s.to_string();
    }
    // RFC 2047 limits a line holding encoded-words to 76 characters. 39 input bytes give 52
    // base64 characters, 64 with the =?UTF-8?B? ?= frame: room for "Subject: " or a longer
    // header name before the first word.
    const MAX_CHUNK: usize = 39;
    let mut words = Vec::new();
    let mut start = 0;
    while start < s.len() {
        let mut end = (start + MAX_CHUNK).min(s.len());
        // Never split a character across two words (RFC 2047 section 5).
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        words.push(format!("=?UTF-8?B?{}?=", base64(&s.as_bytes()[start..end])));
        start = end;
    }
    words.join("\r\n ")
}

/// Where an encoder writes.
pub trait Out {
    fn put(&mut self, bytes: &[u8]);
}

impl Out for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Counts what would be written.
#[derive(Debug, Default)]
pub struct Count(pub usize);

impl Out for Count {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// Calls `f(line, ends_with_break)` for each line of `body`. Lines end at LF, as sendmail reads
/// them, and CRs at a line's end go with its break (`a\r\r\n` is one line `a`, a body's last
/// `\r` nothing), as the reference chain (PHP + Postfix) delivers them; a lone CR inside a line
/// is for the writers to turn into a space (`put_line`), as that chain does too.
pub fn for_each_line(body: &[u8], mut f: impl FnMut(&[u8], bool)) {
    let trim =
        |line: &[u8]| -> usize { line.iter().rposition(|&b| b != b'\r').map_or(0, |p| p + 1) };
    let mut rest = body;
    while !rest.is_empty() {
        let Some(i) = memchr::memchr(b'\n', rest) else {
            let line = &rest[..trim(rest)];
            if !line.is_empty() {
                f(line, false);
            }
            return;
        };
        let line = &rest[..i];
        f(&line[..trim(line)], true);
        rest = &rest[i + 1..];
    }
}

/// A line's bytes with each lone CR as a space: no bare CR goes on the wire, where a server
/// may take it as a line break.
fn put_line(line: &[u8], out: &mut impl Out) {
    let mut rest = line;
    while let Some(cr) = memchr::memchr(b'\r', rest) {
        out.put(&rest[..cr]);
        out.put(b" ");
        rest = &rest[cr + 1..];
    }
    out.put(rest);
}

/// SMTP's line limit without the CRLF (RFC 5321 section 4.5.3.1.6).
pub const MAX_LINE: usize = 998;

/// The body with CRLF line ends, as it is otherwise.
pub fn crlf_lines(body: &[u8], out: &mut impl Out) {
    for_each_line(body, |line, brk| {
        put_line(line, out);
        if brk {
            out.put(b"\r\n");
        }
    });
}

/// The body with CRLF line ends and lines over 998 octets broken as Postfix's SMTP client
/// breaks them (`smtp_line_length_limit`): CRLF and a space inserted, so a MIME structure is
/// damaged as little as possible.
pub fn folded_lines(body: &[u8], out: &mut impl Out) {
    for_each_line(body, |line, brk| {
        let (first, mut rest) = line.split_at(line.len().min(MAX_LINE));
        put_line(first, out);
        while !rest.is_empty() {
            let (piece, more) = rest.split_at(rest.len().min(MAX_LINE - 1));
            out.put(b"\r\n ");
            put_line(piece, out);
            rest = more;
        }
        if brk {
            out.put(b"\r\n");
        }
    });
}

/// Quoted-printable (RFC 2045 section 6.7): line breaks stay hard CRLF breaks, encoded lines
/// are at most 76 characters, white space at a line end is encoded.
pub fn quoted_printable(body: &[u8], out: &mut impl Out) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for_each_line(body, |line, brk| {
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let b = if b == b'\r' { b' ' } else { b };
            let last = i + 1 == line.len();
            let literal =
                ((b'!'..=b'~').contains(&b) && b != b'=') || (matches!(b, b' ' | b'\t') && !last);
            let len = if literal { 1 } else { 3 };
            // Room for the '=' of a soft break, except after the line's last character.
            if col + len > if last { 76 } else { 75 } {
                out.put(b"=\r\n");
                col = 0;
            }
            if literal {
                out.put(&[b]);
            } else {
                out.put(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            }
            col += len;
        }
        if brk {
            out.put(b"\r\n");
        }
    });
}

/// Unstructured header text (Subject, Comments, X-...) with only its non-ASCII words encoded:
/// the ASCII words stay readable, and a caller's own encoded word (`=?UTF-8?B?SGk=?=`, from
/// mb_encode_mimeheader) stays an encoded word a reader decodes, as it does when sendmail
/// passes the value on as it is. Runs of non-ASCII words are encoded together with the white
/// space between them, which readers drop between two encoded words (RFC 2047 section 6.2).
pub fn encode_text(s: &str) -> String {
    if is_plain_header_text(s) {
        return s.to_string();
    }
    // Words with the white space before each.
    let mut words: Vec<(&str, &str)> = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let ws_end = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let word_end = rest[ws_end..]
            .find([' ', '\t'])
            .map_or(rest.len(), |i| ws_end + i);
        words.push((&rest[..ws_end], &rest[ws_end..word_end]));
        rest = &rest[word_end..];
    }
    let mut out = String::with_capacity(s.len() * 2);
    // Lines holding encoded words stay within 76 characters (RFC 2047 section 2): folded
    // before the white space that precedes a word, room left for the header's name.
    let mut col = 20;
    let mut put = |out: &mut String, space: &str, token: &str| {
        if col + space.len() + token.find('\r').unwrap_or(token.len()) > 76 && !space.is_empty() {
            out.push_str("\r\n");
            col = 0;
        }
        out.push_str(space);
        out.push_str(token);
        col = match token.rfind('\n') {
            Some(nl) => token.len() - nl - 1,
            None => col + space.len() + token.len(),
        };
    };
    let mut i = 0;
    while i < words.len() {
        let (space, word) = words[i];
        if is_plain_header_text(word) {
            put(&mut out, space, word);
            i += 1;
            continue;
        }
        // After a word a reader decodes, the space between goes inside this run's encoding.
        let after_encoded = i > 0 && words[i - 1].1.starts_with("=?");
        let mut run = String::new();
        let space = if after_encoded && !space.is_empty() {
            run.push_str(space);
            " "
        } else {
            space
        };
        run.push_str(word);
        i += 1;
        while i < words.len() && !is_plain_header_text(words[i].1) {
            run.push_str(words[i].0);
            run.push_str(words[i].1);
            i += 1;
        }
        // So does the space before a word a reader will decode, or the reader would drop it.
        if i < words.len() && words[i].1.starts_with("=?") {
            run.push_str(words[i].0);
            words[i].0 = " ";
        }
        put(&mut out, space, &encode_words(&run));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "\0user\0pass",
        ] {
            let e = base64(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
    }

    #[test]
    fn ascii_stays_and_utf8_is_encoded() {
        assert_eq!(encode_words("Hello world"), "Hello world");
        assert_eq!(encode_words("Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
    }

    #[test]
    fn only_non_ascii_words_are_encoded() {
        assert_eq!(encode_text("Hello world"), "Hello world");
        assert_eq!(
            encode_text("Grüße aus Köln"),
            "=?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?="
        );
        assert_eq!(
            encode_text("a Grüße Köln b"),
            "a =?UTF-8?B?R3LDvMOfZSBLw7Zsbg==?= b"
        );
        // A caller's encoded word stays one, and the space before it survives decoding.
        assert_eq!(
            encode_text("\u{20ac} =?UTF-8?B?SGk=?="),
            "=?UTF-8?B?4oKsIA==?= =?UTF-8?B?SGk=?="
        );
        assert_eq!(
            encode_text("=?UTF-8?B?SGk=?= \u{20ac}"),
            "=?UTF-8?B?SGk=?= =?UTF-8?B?IOKCrA==?="
        );
        // Folded at white space so no line with an encoded word passes 76 characters.
        let long = format!("Gr\u{fc}\u{df}e {}", "word ".repeat(40));
        let enc = encode_text(long.trim_end());
        let lines: Vec<&str> = enc.split("\r\n").collect();
        assert!(
            lines[0].len() <= 56 && lines.iter().all(|l| l.len() <= 76),
            "{enc}"
        );
        assert_eq!(
            enc.replace("\r\n", ""),
            format!("=?UTF-8?B?R3LDvMOfZQ==?= {}", "word ".repeat(40).trim_end())
        );
    }

    #[test]
    fn long_utf8_is_split_on_character_boundaries() {
        let s = "ä".repeat(100);
        let enc = encode_words(&s);
        let mut decoded = Vec::new();
        for word in enc.split("\r\n ") {
            assert!(word.len() <= 64, "{word}");
            let inner = word
                .strip_prefix("=?UTF-8?B?")
                .unwrap()
                .strip_suffix("?=")
                .unwrap();
            let bytes = base64_decode(inner).unwrap();
            assert!(
                std::str::from_utf8(&bytes).is_ok(),
                "each word is whole UTF-8"
            );
            decoded.extend(bytes);
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), s);
    }

    fn qp(s: &[u8]) -> String {
        let mut out = Vec::new();
        quoted_printable(s, &mut out);
        let mut n = Count::default();
        quoted_printable(s, &mut n);
        assert_eq!(n.0, out.len(), "the count is what is written");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoted_printable_lines() {
        assert_eq!(qp(b"a=b \r\nc\t\nd \re\r"), "a=3Db=20\r\nc=09\r\nd  e");
        assert_eq!(qp("Grüße\n".as_bytes()), "Gr=C3=BC=C3=9Fe\r\n");
        let long = qp(&[b'a'; 2000]);
        let lines: Vec<&str> = long.split("\r\n").collect();
        assert!(lines.iter().all(|l| l.len() <= 76), "{lines:?}");
        assert_eq!(long.replace("=\r\n", ""), "a".repeat(2000));
        let long = qp(&[0xffu8; 100]);
        assert!(long.split("\r\n").all(|l| l.len() <= 76));
        assert_eq!(long.replace("=\r\n", ""), "=FF".repeat(100));
    }

    #[test]
    fn folding_as_postfix_does() {
        let mut out = Vec::new();
        folded_lines(&[b'a'; 2500], &mut out);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines.iter().map(|l| l.len()).collect::<Vec<_>>(),
            [998, 998, 506]
        );
        assert!(lines[1].starts_with(' ') && lines[2].starts_with(' '));
        let mut out = Vec::new();
        crlf_lines(b"a\nb\rc\r\nd\n\re\r", &mut out);
        assert_eq!(out, b"a\r\nb c\r\nd\r\n e");
        // CRs at a line's end go with the break, as Postfix's sendmail takes them.
        let mut out = Vec::new();
        crlf_lines(b"a\r\r\nb \r\r\n\r", &mut out);
        assert_eq!(out, b"a\r\nb \r\n");
    }

    #[test]
    fn control_characters_are_not_plain() {
        assert!(!is_plain_header_text("a\r\nBcc: x"));
        assert!(!is_plain_header_text("a\0"));
    }
}
