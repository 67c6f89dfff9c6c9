//! Address lists as people write them in To/Cc/From: `a@b.c`, `Name <a@b.c>`,
//! `"Last, First" <a@b.c>`, comma separated, with comments and groups.

use std::borrow::Cow;
use std::str::FromStr;

use lettre::Address;

use crate::encode::{encode_words, is_plain_header_text};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub addr: String,
}

impl Mailbox {
    /// The mailbox as it goes into a header, with a display name quoted or RFC 2047 encoded as
    /// needed.
    pub fn to_header(&self) -> String {
        match self.name.as_deref() {
            None | Some("") => self.addr.clone(),
            Some(name) => format!("{} <{}>", display_name(name), self.addr),
        }
    }
}

fn display_name(name: &str) -> String {
    if !is_plain_header_text(name) {
        return encode_words(name);
    }
    let atext_or_space = |c: char| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c);
    if name.chars().all(atext_or_space) {
        name.to_string()
    } else {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

/// Checks an address for the envelope (MAIL FROM / RCPT TO): `user@domain`, nothing else.
/// Returns the form that goes on the wire and into headers: a Unicode domain as its A-label
/// (IDNA 2008 / UTS 46, `münchen.de` → `xn--mnchen-3ya.de`), which any server takes; a UTF-8
/// local part (NFC) stays, and then needs SMTPUTF8 (RFC 6531), which the transport checks.
pub fn check_addr(addr: &str) -> Result<String> {
    if addr.is_ascii() {
        return check_ascii_addr(addr, addr);
    }
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return Err(Error::Message(format!(
            "invalid email address \"{}\": no @domain",
            printable(addr)
        )));
    };
    // Controls, blanks and invisible formatting characters (U+0085, U+2028, U+202E, U+FEFF,
    // ...) would let a line break into a command or hide what the address says.
    if let Some(c) = addr.chars().find(|&c| !visible(c)) {
        return Err(Error::Message(format!(
            "invalid email address \"{}\": it holds the invisible or control character \
             U+{:04X}",
            printable(addr),
            c as u32
        )));
    }
    let domain = if domain.is_ascii() {
        domain.to_string()
    } else {
        a_label(addr, domain)?
    };
    if local.is_ascii() {
        return check_ascii_addr(&format!("{local}@{domain}"), addr);
    }
    let local = utf8_local_part(addr, local)?;
    // The domain alone, checked as for any ASCII address.
    check_ascii_addr(&format!("x@{domain}"), addr)?;
    Ok(format!("{local}@{domain}"))
}

fn check_ascii_addr(addr: &str, given: &str) -> Result<String> {
    if addr.bytes().any(|b| b.is_ascii_control()) {
        return Err(Error::Message(format!(
            "invalid email address \"{}\": control characters",
            printable(given)
        )));
    }
    let checked = Address::from_str(addr).map_err(|e| {
        Error::Message(format!(
            "invalid email address \"{}\": {e}",
            printable(given)
        ))
    })?;
    if !domain_ok(checked.domain()) {
        return Err(Error::Message(format!(
            "invalid email address \"{}\": the domain may hold only letters, digits, '-', '_' \
             and dots (or be an address literal in [ ])",
            printable(given)
        )));
    }
    remember_lettre_checked(addr);
    Ok(checked.to_string())
}

/// Addresses lettre's parser took lately in this thread (at most `LETTRE_CHECKED`, each at
/// most `RECENT_INPUT` bytes): the envelope checks each address again before it goes into a
/// command, and that check of the same text by the same parser need not run twice.
const LETTRE_CHECKED: usize = 8;

thread_local! {
    static LETTRE_OK: std::cell::RefCell<Vec<String>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether lettre's `Address` parser took exactly this text lately in this thread.
pub fn lettre_checked(addr: &str) -> bool {
    LETTRE_OK.with(|ok| ok.borrow().iter().any(|a| a == addr))
}

/// Notes that lettre's `Address` parser took this text.
pub fn remember_lettre_checked(addr: &str) {
    if addr.len() > RECENT_INPUT {
        return;
    }
    LETTRE_OK.with(|ok| {
        let mut ok = ok.borrow_mut();
        if ok.iter().any(|a| a == addr) {
            return;
        }
        if ok.len() == LETTRE_CHECKED {
            ok.remove(0);
        }
        ok.push(addr.to_string());
    });
}

/// The longest domain (RFC 1035: 255 octets) and local part (RFC 5321: 64 octets).
const MAX_DOMAIN: usize = 255;
const MAX_LOCAL: usize = 64;

/// A Unicode domain as its A-label (UTS 46 with the strict STD3 rules: letters, digits and
/// hyphens only, DNS lengths checked).
fn a_label(addr: &str, domain: &str) -> Result<String> {
    // Bounded before the conversion: its cost then cannot grow with hostile input.
    if domain.len() > MAX_DOMAIN * 4 {
        return Err(Error::Message(format!(
            "invalid email address \"{}\": the domain is too long",
            printable(addr)
        )));
    }
    idna::domain_to_ascii_strict(domain).map_err(|_| {
        Error::Message(format!(
            "invalid email address \"{}\": \"{}\" is not a valid internationalized domain \
             name (IDNA 2008 / UTS 46)",
            printable(addr),
            printable(domain)
        ))
    })
}

/// A UTF-8 local part (RFC 6531 section 3.3: a dot-atom whose atext takes any non-ASCII
/// character), in NFC.
fn utf8_local_part(addr: &str, local: &str) -> Result<String> {
    // NFC at most thirds the length (Hangul jamo to a syllable): longer input cannot fit, and
    // is refused before the normalisation's cost.
    let nfc = if local.len() > MAX_LOCAL * 4 {
        std::borrow::Cow::Borrowed(local)
    } else {
        icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(local)
    };
    let atext =
        |c: char| !c.is_ascii() || c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let ok = nfc.len() <= MAX_LOCAL
        && nfc
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext));
    if !ok {
        return Err(Error::Message(format!(
            "invalid email address \"{}\": the part before the @ must be at most 64 bytes of \
             letters, digits and !#$%&'*+-/=?^_`{{|}}~ between dots",
            printable(addr)
        )));
    }
    Ok(nfc.into_owned())
}

/// Not a control, blank or invisible formatting character.
fn visible(c: char) -> bool {
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'))
}

/// A host name of letters, digits, hyphens (and underscores, which internal names use) between
/// dots, or an address literal. lettre lets `a@ex=ample.org` through; Postfix bounces it as
/// "bad address syntax", so nobody would get the message.
fn domain_ok(domain: &str) -> bool {
    if domain.starts_with('[') && domain.ends_with(']') {
        return true;
    }
    domain.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Shows untrusted text in an error message without control characters, cut to a length a
/// warning can carry (a 1 MB header value must not become a 1 MB error message).
pub fn printable(s: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut out: String = s
        .chars()
        .take(MAX_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().nth(MAX_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

/// Lists parsed lately in this thread (at most `RECENT` of them, each at most `RECENT_INPUT`
/// bytes long): a wiki sends from one From and often to the same few To, and parsing and
/// checking an address costs more than the rest of a pooled send's header work together.
/// Only lists that parsed are kept; the answer is the same as parsing again (no setting or
/// state goes into it).
const RECENT: usize = 4;
const RECENT_INPUT: usize = 512;

thread_local! {
    static RECENT_LISTS: std::cell::RefCell<Vec<(String, Vec<Mailbox>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Parses a comma-separated address list. Empty items are skipped; groups (`team: a@b, c@d;`)
/// give their members.
pub fn parse_list(input: &str) -> Result<Vec<Mailbox>> {
    if input.len() > RECENT_INPUT {
        return parse_list_uncached(input);
    }
    let hit = RECENT_LISTS.with(|r| {
        r.borrow()
            .iter()
            .find(|(given, _)| given == input)
            .map(|(_, list)| list.clone())
    });
    if let Some(list) = hit {
        return Ok(list);
    }
    let list = parse_list_uncached(input)?;
    RECENT_LISTS.with(|r| {
        let mut r = r.borrow_mut();
        if r.len() == RECENT {
            r.remove(0);
        }
        r.push((input.to_string(), list.clone()));
    });
    Ok(list)
}

fn parse_list_uncached(input: &str) -> Result<Vec<Mailbox>> {
    // Folding (CRLF + white space) is allowed; any other control character could end the
    // header or the command line the address goes into.
    let unfolded: Cow<'_, str> = if input.contains('\n') {
        Cow::Owned(
            input
                .replace("\r\n ", " ")
                .replace("\r\n\t", "\t")
                .replace("\n ", " ")
                .replace("\n\t", "\t"),
        )
    } else {
        Cow::Borrowed(input)
    };
    if unfolded.chars().any(|c| c.is_control() && c != '\t') {
        return Err(bad(input, "control characters"));
    }
    let mut out = Vec::new();
    for item in split_top_level(&unfolded, ',')? {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((name, members)) = split_group(item) else {
            out.push(parse_mailbox(item)?);
            continue;
        };
        let phrase = unquote(name.trim());
        if phrase.is_empty() || phrase.contains(['@', '<', '>', ',', ';', ':']) {
            return Err(bad(item, "not an address or a group"));
        }
        // Groups do not nest (RFC 5322 section 3.4): the members are mailboxes, parsed here
        // rather than by a recursive call, so `a:a:a:...` costs one pass, not one per colon.
        for member in split_top_level(members, ',')? {
            let member = member.trim();
            if member.is_empty() {
                continue;
            }
            if split_group(member).is_some() {
                return Err(bad(member, "a group inside a group"));
            }
            out.push(parse_mailbox(member)?);
        }
    }
    Ok(out)
}

/// Parses one mailbox: `addr`, `<addr>`, `Name <addr>`, `"Name" <addr>`, `addr (comment)`.
pub fn parse_mailbox(item: &str) -> Result<Mailbox> {
    let item = strip_comments(item)?;
    let item = item.trim();
    if let Some(open) = find_unquoted(item, '<') {
        let close = item[open..]
            .find('>')
            .map(|i| i + open)
            .ok_or_else(|| bad(item, "missing \">\""))?;
        if !item[close + 1..].trim().is_empty() {
            return Err(bad(item, "text after \">\""));
        }
        let addr =
            check_addr(item[open + 1..close].trim()).map_err(|_| bad(item, "bad address"))?;
        // sendmail takes ';' as a list separator too: in `x@example.org;"a" <q@example.org>`
        // x@example.org is a recipient for it, only a name here.
        if find_unquoted(&item[..open], ';').is_some() {
            return Err(bad(
                item,
                "\";\" before \"<\": separate addresses with commas",
            ));
        }
        let name = unquote(item[..open].trim());
        Ok(Mailbox {
            name: (!name.is_empty()).then_some(name),
            addr,
        })
    } else {
        let addr = check_addr(item)?;
        Ok(Mailbox { name: None, addr })
    }
}

fn bad(item: &str, why: &str) -> Error {
    Error::Message(format!(
        "invalid email address \"{}\" ({why}); write addresses as user@example.org or \
         Name <user@example.org>",
        printable(item)
    ))
}

fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => s.to_string(),
    }
}

/// `name: members;` → (name, members), when the item is a group.
fn split_group(item: &str) -> Option<(&str, &str)> {
    let colon = find_unquoted(item, ':')?;
    // A colon inside <...> belongs to an address, not a group.
    if find_unquoted(item, '<').is_some_and(|lt| lt < colon) {
        return None;
    }
    let rest = item[colon + 1..].trim_end();
    let members = rest.strip_suffix(';').unwrap_or(rest);
    Some((&item[..colon], members))
}

fn find_unquoted(s: &str, needle: char) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == needle && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits on `sep` outside quotes, angle brackets, comments and groups.
fn split_top_level(s: &str, sep: char) -> Result<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut quoted, mut escaped, mut angle, mut paren, mut group) =
        (false, false, false, 0, false);
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted || paren > 0 => escaped = true,
            '"' if paren == 0 => quoted = !quoted,
            _ if quoted => {}
            '(' => paren += 1,
            ')' if paren > 0 => paren -= 1,
            _ if paren > 0 => {}
            '<' => angle = true,
            '>' => angle = false,
            ':' if !angle => group = true,
            ';' if group => group = false,
            c if c == sep && !angle && !group => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if quoted || paren > 0 || angle {
        return Err(bad(s, "unbalanced quotes, brackets or parentheses"));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

/// The text with RFC 5322 comments `( ... )` (nested, with backslash escapes) taken out,
/// outside quoted strings.
pub fn strip_comments(s: &str) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let (mut depth, mut quoted, mut escaped) = (0, false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    if depth > 0 {
        return Err(bad(s, "unclosed comment"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(s: &str) -> Vec<String> {
        parse_list(s).unwrap().into_iter().map(|m| m.addr).collect()
    }

    #[test]
    fn common_forms() {
        assert_eq!(addrs("a@example.org"), ["a@example.org"]);
        assert_eq!(addrs(" <a@example.org> "), ["a@example.org"]);
        assert_eq!(
            addrs("Ann <a@example.org>, b@example.org"),
            ["a@example.org", "b@example.org"]
        );
        assert_eq!(addrs("\"Doe, John\" <j@example.org>"), ["j@example.org"]);
        assert_eq!(addrs("j@example.org (John Doe)"), ["j@example.org"]);
        assert_eq!(
            addrs("team: a@example.org, b@example.org;, c@example.org").len(),
            3
        );
        assert_eq!(addrs("undisclosed-recipients:;"), Vec::<String>::new());
        assert_eq!(addrs("a@example.org,,"), ["a@example.org"]);
    }

    #[test]
    fn display_names_round_trip() {
        let m = &parse_list("\"Doe, John\" <j@example.org>").unwrap()[0];
        assert_eq!(m.name.as_deref(), Some("Doe, John"));
        assert_eq!(m.to_header(), "\"Doe, John\" <j@example.org>");
        let m = &parse_list("Jörg <j@example.org>").unwrap()[0];
        assert_eq!(m.to_header(), "=?UTF-8?B?SsO2cmc=?= <j@example.org>");
        let m = &parse_list("Ann Lee <a@example.org>").unwrap()[0];
        assert_eq!(m.to_header(), "Ann Lee <a@example.org>");
    }

    #[test]
    fn injection_attempts_are_not_addresses() {
        for s in [
            "a@example.org\r\nBcc: evil@example.org",
            "a@example.org>\r\nRCPT TO:<evil@example.org",
            "<a@example.org\r\n>",
            "a@example.org\0",
            "\"a\r\n\"@example.org",
            "Name <a@example.org> trailing",
            "<a@b@c>",
            "nobody",
            "a@ex=ample.org",
            "a@ex?ample.org",
            "a@example..org",
            "x@example.org;\"a\\\"b\" <q@example.org>",
        ] {
            assert!(parse_list(s).is_err(), "{s:?} must be refused");
        }
    }

    #[test]
    fn no_control_or_invisible_characters() {
        for s in [
            "l@e\u{85}t",
            "a\u{2028}@example.org",
            "a@exa\u{202e}mple.org",
            "j\u{200b}örg@example.org",
            "jörg@exa mple.org",
        ] {
            assert!(parse_list(s).is_err(), "{s:?}");
            assert!(check_addr(s).is_err(), "{s:?}");
        }
        assert!(
            parse_list("Jörg <j@example.org>").is_ok(),
            "a non-ASCII name is fine"
        );
    }

    #[test]
    fn unicode_domains_become_a_labels_and_utf8_local_parts_stay_in_nfc() {
        assert_eq!(
            check_addr("info@münchen.de").unwrap(),
            "info@xn--mnchen-3ya.de"
        );
        assert_eq!(
            check_addr("info@MÜNCHEN.de").unwrap(),
            "info@xn--mnchen-3ya.de"
        );
        assert_eq!(
            check_addr("用户@例子.中国").unwrap(),
            "用户@xn--fsqu00a.xn--fiqs8s"
        );
        // "jo" + combining acute accent: NFC makes it one character.
        assert_eq!(
            check_addr("jo\u{301}se@exemplo.br").unwrap(),
            "j\u{f3}se@exemplo.br"
        );
        for bad in ["jörg..x@example.org", ".jörg@example.org", "jörg@-ü.de"] {
            assert!(check_addr(bad).is_err(), "{bad}");
        }
        assert!(check_addr(&format!("{}@example.org", "ö".repeat(33))).is_err());
        assert_eq!(
            addrs("Jörg <jörg@bücher.example>"),
            ["jörg@xn--bcher-kva.example"]
        );
    }

    #[test]
    fn groups_do_not_nest() {
        assert_eq!(
            addrs("g: a@example.org, <b@example.org>;"),
            ["a@example.org", "b@example.org"]
        );
        for s in ["g: h: a@example.org;;", "a:a:a:x@example.org"] {
            let e = parse_list(s).unwrap_err().to_string();
            assert!(e.contains("group inside a group"), "{s}: {e}");
        }
    }

    #[test]
    fn error_messages_are_short() {
        let e = parse_list(&"x".repeat(100_000)).unwrap_err().to_string();
        assert!(e.len() < 1_000, "{}", e.len());
    }

    #[test]
    fn error_messages_hide_control_characters() {
        let e = parse_list("x\r\ny").unwrap_err().to_string();
        assert!(!e.contains('\r') && !e.contains('\n'), "{e}");
    }

    #[test]
    fn a_recent_list_gives_what_parsing_gives() {
        let inputs = [
            "a@example.org",
            "Jörg <j@bücher.example>",
            "team: x@example.org, \"Last, First\" <y@example.org>;",
            "b@example.org,\r\n c@example.org",
            "d@example.org (comment)",
            "not an address",
            "e@example.org\r\nBcc: f@example.org",
        ];
        // More lists than are kept, several rounds: hits, misses and evictions alike.
        for _ in 0..3 {
            for input in inputs {
                let got = parse_list(input).map_err(|e| e.to_string());
                let want = parse_list_uncached(input).map_err(|e| e.to_string());
                assert_eq!(got, want, "{input:?}");
            }
        }
        assert!(parse_list("not an address").is_err());
        let long = format!("{}@example.org", "l".repeat(600));
        assert_eq!(
            parse_list(&long).map_err(|e| e.to_string()),
            parse_list_uncached(&long).map_err(|e| e.to_string())
        );
    }
}
