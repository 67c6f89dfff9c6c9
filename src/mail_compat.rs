//! What PHP's own `mail()` does around sendmail, in plain Rust so `cargo test` reaches it: the
//! header block check it makes before sending, the `-f` sender in the sendmail parameters, and
//! the mail.log line.

/// php-src's `php_mail_detect_multiple_crlf()`: a header block must start with a header name
/// character and may not contain an empty line (which would end the headers early) or a line
/// break at its end. `true` means PHP refuses it with "Multiple or malformed newlines found in
/// additional_header".
pub fn has_malformed_newlines(hdr: &[u8]) -> bool {
    let Some(&first) = hdr.first() else {
        return false;
    };
    if !(33..=126).contains(&first) || first == b':' {
        return true;
    }
    let at = |i: usize| hdr.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < hdr.len() {
        match hdr[i] {
            b'\r' => {
                if matches!(at(i + 1), 0 | b'\r')
                    || (at(i + 1) == b'\n' && matches!(at(i + 2), 0 | b'\n' | b'\r'))
                {
                    return true;
                }
                i += 2;
            }
            b'\n' => {
                if matches!(at(i + 1), 0 | b'\r' | b'\n') {
                    return true;
                }
                i += 2;
            }
            0 => return false,
            _ => i += 1,
        }
    }
    false
}

/// The sender from sendmail-style parameters: `-f addr`, `-faddr`, `-f "addr"`, `-f 'addr'`
/// (and `-r`, its old name); `Ok(None)` when they name none. Options that mean nothing over
/// SMTP (`-i`, `-t`, `-oi`, `-od*`, `-oe*`, `-F <full name>`) are taken and ignored. Anything
/// else is refused rather than dropped: sendmail would take a stray word as one more
/// recipient, or refuse an option it does not know, so sending without it would send to other
/// people, or from another sender, than the same call through sendmail.
pub fn envelope_from_params(params: &str) -> Result<Option<String>, String> {
    let mut words = shell_words(params).into_iter();
    let mut from = None;
    while let Some(w) = words.next() {
        match w.as_str() {
            // `-f ''` is the null sender.
            "-f" | "-r" => match words.next() {
                Some(addr) => from = Some(addr),
                None => return Err(format!("\"{w}\" is not followed by an address")),
            },
            "-i" | "-t" | "-oi" | "-ti" | "-it" => {}
            "-F" => {
                words.next();
            }
            _ if w.starts_with("-od") || w.starts_with("-oe") || w.starts_with("-F") => {}
            _ => match w.strip_prefix("-f").or_else(|| w.strip_prefix("-r")) {
                Some(addr) if !addr.starts_with('-') => from = Some(addr.to_string()),
                _ => {
                    return Err(format!(
                        "\"{}\" is not a sendmail option this transport takes",
                        crate::address::printable(&w)
                    ))
                }
            },
        }
    }
    Ok(from)
}

fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The line PHP's own `mail()` writes to mail.log (without the date PHP puts in front when
/// logging to a file): each CR and LF of the headers becomes a space, so an entry is one line.
pub fn log_line(file: &str, line: u32, to: &str, headers: Option<&str>, subject: &str) -> String {
    let mut entry = format!(
        "mail() on [{file}:{line}]: To: {to} -- Headers: {} -- Subject: {subject}",
        headers.unwrap_or("")
    );
    if headers.is_some() {
        entry = entry.replace(['\r', '\n'], " ");
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_f_forms() {
        let from = |p: &str| envelope_from_params(p).unwrap();
        assert_eq!(from("-f a@b.c").as_deref(), Some("a@b.c"));
        assert_eq!(from("-fa@b.c").as_deref(), Some("a@b.c"));
        assert_eq!(from("-odb -f \"a@b.c\"").as_deref(), Some("a@b.c"));
        assert_eq!(from(" -f 'a@b.c'").as_deref(), Some("a@b.c"));
        assert_eq!(from("-r a@b.c -i").as_deref(), Some("a@b.c"));
        assert_eq!(from("-odb"), None);
        assert_eq!(from("-f ''").as_deref(), Some(""));
        assert_eq!(from("-F 'Wiki Bot' -oi -f a@b.c").as_deref(), Some("a@b.c"));
        assert_eq!(from(""), None);
    }

    /// What sendmail would take as more recipients, or refuse, is refused: sent without it, the
    /// mail would go to other people, or from another sender, than through sendmail.
    #[test]
    fn stray_words_and_unknown_options_are_refused() {
        for p in [
            "-f",
            "-f a@b.c evil@evil.test",
            "Gr\u{fc}\u{df}e-f bounce @ example.org",
            "\\-f bounce@example.org",
            "-X /tmp/log",
            "-C /etc/other.cf -f a@b.c",
            "-f-X",
        ] {
            assert!(envelope_from_params(p).is_err(), "{p:?}");
        }
    }

    #[test]
    fn malformed_newlines_as_php_sees_them() {
        for ok in [
            &b"X-A: 1"[..],
            b"X-A: 1\r\nX-B: 2",
            b"X-A: 1\nX-B: 2",
            b"X-A: 1\r\n folded",
        ] {
            assert!(
                !has_malformed_newlines(ok),
                "{:?}",
                String::from_utf8_lossy(ok)
            );
        }
        for bad in [
            &b" X-A: 1"[..],
            b":X",
            b"X-A: 1\r\n\r\nbody",
            b"X-A: 1\n\nbody",
            b"X-A: 1\r\n",
            b"X-A: 1\n",
            b"X-A: 1\r\rX",
        ] {
            assert!(
                has_malformed_newlines(bad),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(!has_malformed_newlines(b""));
    }

    #[test]
    fn log_lines_are_one_line() {
        assert_eq!(
            log_line("/x.php", 3, "a@b.c", Some("From: w@x\r\nCc: c@d"), "Hi"),
            "mail() on [/x.php:3]: To: a@b.c -- Headers: From: w@x  Cc: c@d -- Subject: Hi"
        );
        assert_eq!(
            log_line("/x.php", 3, "a@b.c", None, "Hi"),
            "mail() on [/x.php:3]: To: a@b.c -- Headers:  -- Subject: Hi"
        );
    }
}
