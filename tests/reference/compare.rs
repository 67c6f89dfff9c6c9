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
use super::mime::{
    addresses, alnum, decoded_body, media_type, split_message, text, undo_postfix_breaks, Field,
};

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

/// The From header Postfix's cleanup adds to a sendmail submission without one (PHP runs as
/// root here, and myorigin is localhost).
const POSTFIX_FROM: &str = "root <root@localhost>";

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
/// refused on an argument's type (a list for From or Cc, which smtp_send() takes) or on one of
/// mail()'s own argument rules that smtp_send() does not share (`SMTP_SEND_TAKES`) is no
/// reference. mail()'s refusals of header values (CR, LF) stay references: smtp_send() must
/// refuse those too.
/// mail()'s argument rules that smtp_send() does not have: it takes To and Subject in its
/// header array (MediaWiki's hook passes them so).
const SMTP_SEND_TAKES: &[&str] = &[
    "cannot contain the \"To\" header",
    "cannot contain the \"Subject\" header",
];

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
                || (!mail_api
                    && (w.starts_with("TypeError:")
                        || SMTP_SEND_TAKES.iter().any(|s| w.contains(s))))
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
            .flat_map(|a| a.rcpts.iter().map(|r| unicode_domain(r).to_lowercase()))
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
        // A message without From gets one from each side: Postfix's names the Unix user
        // running PHP, the extension's the sender it found (-f, Return-Path, sendmail_from).
        if key == "from" && rfields.len() == 1 && text(&rfields[0].value) == POSTFIX_FROM {
            continue;
        }
        if ADDRESS_FIELDS.contains(&key.as_str()) {
            // Postfix re-quotes what it cannot parse (`x\rBcc: e@x` -> `"Bcc:e"@x`): an address
            // of the extension's counts as the reference's when its letters and digits appear
            // in that order in one of the reference's fields of that name. All of them: PHP's
            // mail() writes `To: <to argument>` before the caller's headers, so an empty To
            // argument and a To header give the reference two To fields, the first empty.
            let rts: Vec<String> = rfields.iter().map(|rf| alnum(&text(&rf.value))).collect();
            for ef in efields {
                let extra: Vec<_> = addresses(&text(&ef.value))
                    .into_iter()
                    .filter(|a| {
                        let a = alnum(&unicode_domain(a));
                        !rts.iter().any(|rt| rt.contains(&a))
                    })
                    .collect();
                if !extra.is_empty() {
                    problems.push(format!(
                        "{}: the extension's field names {extra:?}, the reference's do not \
                         (reference {:?}, extension {:?})",
                        ef.name,
                        rfields.iter().map(|rf| show(&rf.value)).collect::<Vec<_>>(),
                        show(&ef.value)
                    ));
                }
            }
            continue;
        }
        for (rf, ef) in rfields.iter().zip(efields) {
            let (rt, et) = (text(&rf.value), text(&ef.value));
            if rt != et {
                problems.push(format!("{}: reference {rt:?}, extension {et:?}", ef.name));
            }
        }
    }
}

/// The address with an A-label domain in its Unicode form: the extension sends a Unicode
/// domain as its A-label (IDNA), Postfix passes the caller's UTF-8 bytes on; both name the
/// same mailbox.
fn unicode_domain(addr: &str) -> String {
    match addr.rsplit_once('@') {
        Some((local, domain)) if domain.to_ascii_lowercase().contains("xn--") => {
            format!("{local}@{}", idna::domain_to_unicode(domain).0)
        }
        _ => addr.to_string(),
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
