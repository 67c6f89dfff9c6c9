//! Byte-level encodings for headers: base64 and RFC 2047 encoded-words.

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

    #[test]
    fn control_characters_are_not_plain() {
        assert!(!is_plain_header_text("a\r\nBcc: x"));
        assert!(!is_plain_header_text("a\0"));
    }
}
