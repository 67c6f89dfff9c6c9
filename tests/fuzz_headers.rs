//! Property test ("fuzzer") for the message builder and the header and address parsers: random
//! bytes and structured-random inputs full of CR, LF, NUL, quotes, brackets and injection
//! fragments go into `Draft::build()`, `parse_header_block()` and `parse_list()`.
//!
//! Properties, for every input:
//! - nothing panics (each case runs under `catch_unwind`);
//! - when `build()` succeeds:
//!   - (a) every envelope recipient is an address written in the To argument or a To/Cc/Bcc
//!     header (case-insensitively; comments and folding aside);
//!   - (b) every line of the header section is a continuation (space or tab first) or starts a
//!     header whose name was given in the input or is one the builder adds;
//!   - (c) the header section has CRLF line ends only, and no NUL;
//!   - (d) no header line is longer than 998 octets;
//!   - (e) `evil@x.test` is a recipient only when To/Cc/Bcc named it;
//!   - the envelope addresses have no ASCII control character, nor a space, `<` or `>` outside
//!     a quoted local part, and Bcc and Return-Path never reach the message.
//!
//! No extra crates: a xorshift generator, seeded from `FUZZ_SEED` (or a fixed default), runs
//! `FUZZ_ITERS` cases (the default takes a few seconds in a debug build). A failure prints the
//! seed, the case number and a shrunk input; `FUZZ_SEED=<seed> FUZZ_CASE=<n>` replays one case.
//!
//! Longer runs (about 1.5 s per 100 000 cases in release mode; the separate target dir keeps
//! this build's `libsmtp.so`, which has no PHP binding, away from `target/release/deps/`, where
//! `cargo build --release` links the extension):
//!
//! ```sh
//! CARGO_TARGET_DIR=target/fuzz FUZZ_ITERS=2000000 \
//!     cargo test --release --no-default-features --test fuzz_headers
//! CARGO_TARGET_DIR=target/fuzz FUZZ_SEED=$RANDOM$RANDOM FUZZ_ITERS=500000 \
//!     cargo test --release --no-default-features --test fuzz_headers
//! ```

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use smtp::address::{parse_list, strip_comments};
use smtp::message::{check_name, check_value, parse_header_block, Draft, Header};

const DEFAULT_SEED: u64 = 0x5eed_f00d_cafe_b0b0;
/// Cases of the main property test when `FUZZ_ITERS` is not set (about 5-8 s in a debug build).
const DEFAULT_ITERS: u64 = 100_000;

/// Headers the builder may add on its own.
const BUILDER_HEADERS: &[&str] = &[
    "date",
    "from",
    "to",
    "subject",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

const EVIL: &str = "evil@x.test";

// ---------------------------------------------------------------------------------------------
// Random numbers

struct Rng {
    state: u64,
    /// Generate inputs that are mostly valid (no CR, LF or NUL outside folding), so that
    /// enough cases get through `build()` to test its output.
    tame: bool,
}

impl Rng {
    /// A generator for one case: the run's seed and the case number, mixed (splitmix64) so
    /// that neighbouring cases are unrelated.
    fn for_case(seed: u64, case: u64) -> Rng {
        let mut z = seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng {
            state: if z == 0 { 1 } else { z },
            tame: false,
        }
    }

    /// xorshift64*.
    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A fragment: any of them, or in tame mode one without a line break or NUL.
    fn fragment(&mut self) -> &'static str {
        loop {
            let f = self.pick(FRAGMENTS);
            if !self.tame || !breaks_lines(f) {
                return f;
            }
        }
    }

    fn separator(&mut self) -> &'static str {
        loop {
            let f = self.pick(SEPARATORS);
            if !self.tame || !breaks_lines(f) {
                return f;
            }
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn seed() -> u64 {
    env_u64("FUZZ_SEED").unwrap_or(DEFAULT_SEED)
}

// ---------------------------------------------------------------------------------------------
// Input generators

/// Pieces that parsers and header writers trip over.
const FRAGMENTS: &[&str] = &[
    "\r\nBcc: evil@x.test",
    "\nTo: evil@x.test",
    "\rCc: evil@x.test",
    ">\r\nRCPT TO:<evil@x.test",
    "\r\n\r\nBcc: evil@x.test",
    "\r\n Bcc: evil@x.test",
    "\r\n\tTo: evil@x.test",
    "%0d%0aBcc: evil@x.test",
    "evil@x.test",
    "<evil@x.test>",
    "EVIL@X.TEST",
    "\r",
    "\n",
    "\r\n",
    "\r\n ",
    "\r\n\t",
    "\n ",
    "\0",
    ":",
    "<",
    ">",
    ",",
    "\"",
    "(",
    ")",
    ";",
    "\\",
    "@",
    ".",
    " ",
    "\t",
    "  ",
    "ü",
    "€",
    "日本",
    "\u{feff}",
    "\u{2028}",
    "\u{85}",
    "a@example.org",
    "Ann <ann@example.org>",
    "\"Doe, John\" <j@example.org>",
    "j@example.org (John)",
    "team: a@example.org, b@example.org;",
    "undisclosed-recipients:;",
    "=?UTF-8?B?SGk=?=",
    "Subject",
    "Bcc:",
    "X-Y",
    "x",
    "word",
];

const NAMES: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Bcc",
    "BCC",
    "Subject",
    "Reply-To",
    "Sender",
    "Return-Path",
    "Message-ID",
    "Date",
    "MIME-Version",
    "Content-Type",
    "X-Mailer",
    "X-Custom",
    "Resent-To",
];

const ADDRESSES: &[&str] = &[
    "a@example.org",
    "B@Example.Org",
    "<c@example.org>",
    "Ann <ann@example.org>",
    "\"Doe, John\" <j@example.org>",
    "Jörg <jo@example.org>",
    "j@example.org (John)",
    "team: t1@example.org, t2@example.org;",
    "undisclosed-recipients:;",
    "evil@x.test",
    "Evil <evil@x.test>",
    "\"a\\\"b\" <q@example.org>",
];

const SEPARATORS: &[&str] = &[
    ",", ", ", ",\r\n ", ",\r\n\t", " ", ";", "\r\n", "\n", "\r", ",,", "\0", ", \r\n",
];

/// CR or LF other than folding, or NUL.
fn breaks_lines(s: &str) -> bool {
    s.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .contains(['\r', '\n', '\0'])
}

/// Random bytes, mostly from the troublesome ones.
fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    const SPECIAL: &[u8] = b"\r\n\0:<>,\"(;) \t@.\\";
    let len = rng.below(max + 1);
    (0..len)
        .map(|_| match rng.below(4) {
            0 => rng.pick(SPECIAL),
            1 => b'a' + rng.below(26) as u8,
            _ => rng.next() as u8,
        })
        .collect()
}

fn random_text(rng: &mut Rng, max: usize) -> String {
    String::from_utf8_lossy(&random_bytes(rng, max)).into_owned()
}

/// A mix of fragments, letters and random bytes.
fn fragment_text(rng: &mut Rng, max_parts: usize) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(max_parts + 1) {
        match rng.below(6) {
            0 if !rng.tame => s.push_str(&random_text(rng, 6)),
            1 => {
                for _ in 0..=rng.below(8) {
                    s.push((b'a' + rng.below(26) as u8) as char);
                }
            }
            _ => s.push_str(rng.fragment()),
        }
    }
    s
}

/// Something like an address list, with separators and fragments mixed in (in tame mode
/// mostly valid lists).
fn address_text(rng: &mut Rng) -> String {
    const TAME_SEPARATORS: &[&str] = &[",", ", ", ",\r\n ", ",\r\n\t", ",,", " , "];
    let garble = if rng.tame { 5 } else { 40 };
    let mut s = String::new();
    for i in 0..=rng.below(4) {
        if i > 0 {
            s.push_str(if rng.tame {
                rng.pick(TAME_SEPARATORS)
            } else {
                rng.separator()
            });
        }
        if !rng.chance(garble) {
            s.push_str(rng.pick(ADDRESSES));
        } else if rng.chance(30) {
            s.push_str(&fragment_text(rng, 3));
        } else {
            // An address with a fragment spliced in somewhere.
            let a = rng.pick(ADDRESSES);
            let cut = rng.below(a.len() + 1);
            if a.is_char_boundary(cut) {
                s.push_str(&a[..cut]);
                s.push_str(rng.fragment());
                s.push_str(&a[cut..]);
            } else {
                s.push_str(a);
            }
        }
    }
    if rng.chance(garble / 4) {
        s.push_str(rng.fragment());
    }
    s
}

/// A long value: words (foldable) or one unbreakable run, maybe with non-ASCII.
fn long_text(rng: &mut Rng) -> String {
    let word = if rng.chance(30) { "wörd" } else { "word" };
    let n = 150 + rng.below(400);
    if rng.chance(50) {
        vec![word; n].join(if rng.chance(80) { " " } else { "\t" })
    } else {
        word.repeat(n)
    }
}

fn header_name(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 if !rng.tame => fragment_text(rng, 2),
        1 if !rng.tame => format!("X-{}", fragment_text(rng, 1)),
        _ => rng.pick(NAMES).to_string(),
    }
}

fn header_value(rng: &mut Rng, name: &str) -> String {
    let lname = name.to_ascii_lowercase();
    match rng.below(10) {
        0 if !rng.tame => random_text(rng, 40),
        1 => long_text(rng),
        2 | 3 => fragment_text(rng, 6),
        _ if matches!(
            lname.as_str(),
            "from" | "to" | "cc" | "bcc" | "reply-to" | "sender" | "resent-to" | "return-path"
        ) =>
        {
            address_text(rng)
        }
        _ => {
            let mut v = fragment_text(rng, 4);
            if rng.chance(50) {
                v = format!("plain {v} text");
            }
            v
        }
    }
}

/// The input of one case: a draft, or a header block to parse and then build with.
#[derive(Debug, Clone)]
struct Case {
    to: String,
    subject: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    /// When set, the headers come from `parse_header_block` of this text instead.
    block: Option<String>,
    envelope_from: Option<String>,
    default_from: Option<String>,
}

fn random_case(rng: &mut Rng) -> Case {
    let mode = rng.below(10);
    rng.tame = rng.chance(50);
    let raw = mode == 0;
    let text = |rng: &mut Rng, structured: &dyn Fn(&mut Rng) -> String| {
        if raw {
            random_text(rng, 60)
        } else {
            structured(rng)
        }
    };
    let to = if rng.chance(15) {
        String::new()
    } else {
        text(rng, &address_text)
    };
    let subject = match rng.below(8) {
        0 => long_text(rng),
        _ => text(rng, &|r| fragment_text(r, 5)),
    };
    let body = if rng.chance(50) {
        random_bytes(rng, 80)
    } else {
        fragment_text(rng, 6).into_bytes()
    };
    let mut headers = Vec::new();
    if rng.chance(85) {
        headers.push((
            "From".to_string(),
            if rng.chance(90) {
                "Wiki <wiki@example.org>".to_string()
            } else {
                address_text(rng)
            },
        ));
    }
    for _ in 0..rng.below(5) {
        let name = if raw {
            random_text(rng, 10)
        } else {
            header_name(rng)
        };
        let value = if raw {
            random_text(rng, 40)
        } else {
            header_value(rng, &name)
        };
        headers.push((name, value));
    }
    let block = (mode == 1 || mode == 2).then(|| {
        let mut b = String::new();
        for (i, (n, v)) in headers.iter().enumerate() {
            if i > 0 {
                b.push_str(if rng.tame {
                    rng.pick(&["\r\n", "\n"])
                } else {
                    rng.pick(&["\r\n", "\n", "\r\n", "\r", "\r\n\r\n", "\n\n"])
                });
            }
            b.push_str(n);
            b.push_str(rng.pick(&[": ", ":", " : ", ":\t"]));
            b.push_str(v);
        }
        if rng.chance(30) {
            b.push_str(rng.fragment());
        }
        b
    });
    let envelope_from = rng.chance(10).then(|| address_text(rng));
    let default_from = rng.chance(20).then(|| {
        if rng.chance(70) {
            "default@example.org".to_string()
        } else {
            address_text(rng)
        }
    });
    Case {
        to,
        subject,
        body,
        headers,
        block,
        envelope_from,
        default_from,
    }
}

// ---------------------------------------------------------------------------------------------
// Running a case and checking the properties

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// A panic inside a case is reported as a finding with its input, so the default hook's message
/// is silenced while a case runs, on that thread only (other tests keep their messages).
fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic)".into())
}

/// Runs `f` with panic messages silenced and turns a panic into an `Err`.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    quiet_panics();
    let result = panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|p| format!("{what} panicked: {}", panic_message(&*p)));
    QUIET.with(|q| q.set(false));
    result
}

/// True when `addr` is written in `text`: literally, or once comments and folding are taken
/// out (`a@(c)example.org` is `a@example.org`).
fn written_in(addr: &str, text: &str) -> bool {
    let addr = addr.to_lowercase();
    let text = text.to_lowercase();
    if text.contains(&addr) {
        return true;
    }
    let unfolded = text.replace("\r\n ", " ").replace("\r\n\t", "\t");
    let bare: String = strip_comments(&unfolded)
        .unwrap_or_else(|_| unfolded.clone())
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t'))
        .collect();
    bare.contains(&addr.replace([' ', '\t'], ""))
}

/// What could break the MAIL/RCPT command line or the header: ASCII control characters (CR,
/// LF, NUL, ...) anywhere, and spaces or angle brackets outside a quoted local part
/// (`"a b"@example.org` is a valid address). Non-ASCII is not judged here: C1 controls in the
/// envelope sender have their own test (`envelope_sender_has_no_control_characters`), and
/// non-ASCII letters or U+2028 are no line break on the wire.
fn envelope_address_ok(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    let plain = |s: &str| !s.chars().any(|c| matches!(c, ' ' | '<' | '>'));
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    !local.is_empty()
        && !domain.is_empty()
        && !a.chars().any(|c| c.is_ascii_control())
        && plain(domain)
        && (quoted || plain(local))
}

/// How a case ended when every property held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    BlockRefused,
    BuildRefused,
    Built,
}

/// Runs one case: `Err` says which property failed.
fn check_case(case: &Case) -> Result<Outcome, String> {
    let headers: Vec<Header> = match &case.block {
        Some(block) => match no_panic("parse_header_block", || parse_header_block(block))? {
            Ok(h) => {
                check_parsed_block(block, &h)?;
                h
            }
            Err(_) => return Ok(Outcome::BlockRefused),
        },
        None => case
            .headers
            .iter()
            .map(|(n, v)| Header::new(n.clone(), v.clone()))
            .collect(),
    };
    let draft = Draft {
        to: case.to.clone(),
        subject: case.subject.clone(),
        body: case.body.clone(),
        headers: headers.clone(),
        envelope_from: case.envelope_from.clone(),
        default_from: case.default_from.clone(),
        idhost: "wiki.example.org".into(),
    };
    let built = no_panic("Draft::build", || draft.build())?;
    let Ok(p) = built else {
        return Ok(Outcome::BuildRefused);
    };

    // (a), (e): recipients come from To/Cc/Bcc only.
    let mut rcpt_text = case.to.clone();
    for h in &headers {
        if ["to", "cc", "bcc"].contains(&h.name.to_ascii_lowercase().as_str()) {
            rcpt_text.push('\n');
            rcpt_text.push_str(&h.value);
        }
    }
    for r in &p.rcpts {
        if !envelope_address_ok(r) {
            return Err(format!("recipient {r:?} is not a clean envelope address"));
        }
        if !written_in(r, &rcpt_text) {
            return Err(format!(
                "(a) recipient {r:?} is not written in To/Cc/Bcc {rcpt_text:?}"
            ));
        }
        if r.eq_ignore_ascii_case(EVIL) && !rcpt_text.to_lowercase().contains(EVIL) {
            return Err(format!("(e) {EVIL} became a recipient"));
        }
    }
    if !envelope_address_ok(&p.from) {
        return Err(format!(
            "sender {:?} is not a clean envelope address",
            p.from
        ));
    }

    // The header section: up to the first empty line.
    let data = &p.data;
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no empty line after the headers")?;
    let head = &data[..end + 2];
    // (c)
    if head.contains(&0) {
        return Err("(c) NUL in the header section".into());
    }
    for (i, &b) in head.iter().enumerate() {
        let bare_cr = b == b'\r' && head.get(i + 1) != Some(&b'\n');
        let bare_lf = b == b'\n' && (i == 0 || head[i - 1] != b'\r');
        if bare_cr || bare_lf {
            return Err(format!(
                "(c) bare CR or LF at byte {i} of the header section"
            ));
        }
    }
    let given: Vec<String> = headers
        .iter()
        .map(|h| h.name.to_ascii_lowercase())
        .collect();
    let head = &head[..head.len() - 2];
    for (i, line) in head.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let shown = String::from_utf8_lossy(line);
        // (d)
        if line.len() > 998 {
            return Err(format!(
                "(d) header line {i} is {} octets long: {:?}...",
                line.len(),
                &shown[..shown.len().min(60)]
            ));
        }
        // (b)
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if i == 0 {
                return Err("(b) the header section starts with a continuation line".into());
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(format!("(b) header line {i} has no name: {shown:?}"));
        };
        let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
        if !BUILDER_HEADERS.contains(&name.as_str()) && !given.contains(&name) {
            return Err(format!(
                "(b) header line {i} starts a header nobody asked for: {shown:?}"
            ));
        }
        if name == "bcc" || name == "return-path" {
            return Err(format!("{name} header left in the message: {shown:?}"));
        }
    }
    Ok(Outcome::Built)
}

/// What `parse_header_block` returns is valid for `build()`, and its names were in the text.
fn check_parsed_block(block: &str, headers: &[Header]) -> Result<(), String> {
    for h in headers {
        if check_name(&h.name).is_err() || check_value(&h.name, &h.value).is_err() {
            return Err(format!(
                "parse_header_block returned an invalid header {h:?}"
            ));
        }
        if !block.contains(&h.name) {
            return Err(format!(
                "parse_header_block returned a name {:?} not in the text",
                h.name
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Shrinking a failing case

/// Removes pieces of one string while `fails` keeps failing.
fn shrink_string(s: &mut String, fails: &mut dyn FnMut(&str) -> bool) {
    let mut chunk = s.len().max(1);
    while chunk >= 1 {
        let mut start = 0;
        while start < s.len() {
            let end = (start + chunk).min(s.len());
            if s.is_char_boundary(start) && s.is_char_boundary(end) {
                let candidate = format!("{}{}", &s[..start], &s[end..]);
                if fails(&candidate) {
                    *s = candidate;
                    continue;
                }
            }
            start += chunk;
        }
        if chunk == 1 {
            break;
        }
        chunk /= 2;
    }
}

#[derive(Debug, Clone, Copy)]
enum Field {
    To,
    Subject,
    Block,
    HeaderValue(usize),
    HeaderName(usize),
}

fn field(c: &mut Case, f: Field) -> &mut String {
    match f {
        Field::To => &mut c.to,
        Field::Subject => &mut c.subject,
        Field::Block => c.block.get_or_insert_with(String::new),
        Field::HeaderValue(i) => &mut c.headers[i].1,
        Field::HeaderName(i) => &mut c.headers[i].0,
    }
}

fn shrink(case: &Case, still_fails: &dyn Fn(&Case) -> bool) -> Case {
    let mut best = case.clone();
    // Whole parts first.
    for i in (0..best.headers.len()).rev() {
        let mut c = best.clone();
        c.headers.remove(i);
        if still_fails(&c) {
            best = c;
        }
    }
    for f in 0..4 {
        let mut c = best.clone();
        match f {
            0 => c.body.clear(),
            1 => c.envelope_from = None,
            2 => c.default_from = None,
            _ => c.subject.clear(),
        }
        if still_fails(&c) {
            best = c;
        }
    }
    // Then characters, field by field.
    let mut fields = vec![Field::To, Field::Subject];
    if best.block.is_some() {
        fields.push(Field::Block);
    }
    for i in 0..best.headers.len() {
        fields.push(Field::HeaderValue(i));
        fields.push(Field::HeaderName(i));
    }
    for f in fields {
        let base = best.clone();
        let mut s = field(&mut best, f).clone();
        shrink_string(&mut s, &mut |cand: &str| {
            let mut c = base.clone();
            *field(&mut c, f) = cand.to_string();
            still_fails(&c)
        });
        *field(&mut best, f) = s;
    }
    best
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn random_drafts_keep_the_header_and_envelope_rules() {
    let seed = seed();
    let iters = env_u64("FUZZ_ITERS").unwrap_or(DEFAULT_ITERS);
    let cases: Box<dyn Iterator<Item = u64>> = match env_u64("FUZZ_CASE") {
        Some(c) => Box::new(std::iter::once(c)),
        None => Box::new(0..iters),
    };
    let mut counts = [0u64; 3];
    for n in cases {
        let case = random_case(&mut Rng::for_case(seed, n));
        match check_case(&case) {
            Ok(outcome) => counts[outcome as usize] += 1,
            Err(why) => {
                let small = shrink(&case, &|c| check_case(c).is_err());
                let small_why = check_case(&small).err().unwrap_or_default();
                panic!(
                    "property failed: FUZZ_SEED={seed:#x} FUZZ_CASE={n}\n  {why}\n\
                     shrunk input: {small:#?}\n  {small_why}\noriginal input: {case:#?}"
                );
            }
        }
    }
    let [block_refused, build_refused, built] = counts;
    eprintln!(
        "fuzz_headers: seed {seed:#x}: {built} built, {build_refused} refused by build(), \
         {block_refused} header blocks refused"
    );
    // A generator that only makes garbage would test nothing.
    let total = block_refused + build_refused + built;
    assert!(
        total < 100 || built * 10 >= total,
        "only {built} of {total} cases got through build()"
    );
}

#[test]
fn random_address_lists_give_clean_addresses() {
    let seed = seed() ^ 0xa11d;
    let iters = env_u64("FUZZ_ITERS").unwrap_or(DEFAULT_ITERS) / 2;
    let mut parsed = 0u64;
    for n in 0..iters {
        let mut rng = Rng::for_case(seed, n);
        let input = if rng.chance(30) {
            random_text(&mut rng, 80)
        } else {
            address_text(&mut rng)
        };
        let result = no_panic("parse_list", || parse_list(&input))
            .unwrap_or_else(|e| panic!("FUZZ_SEED={seed:#x} case {n}: {e}\ninput: {input:?}"));
        let Ok(list) = result else { continue };
        parsed += 1;
        for m in &list {
            assert!(
                envelope_address_ok(&m.addr),
                "FUZZ_SEED={seed:#x} case {n}: parse_list gave {:?} from {input:?}",
                m.addr
            );
            assert!(
                written_in(&m.addr, &input),
                "FUZZ_SEED={seed:#x} case {n}: {:?} is not written in {input:?}",
                m.addr
            );
            let header = m.to_header();
            let unfolded = header.replace("\r\n ", " ");
            assert!(
                !unfolded.chars().any(|c| c.is_ascii_control() && c != '\t'),
                "FUZZ_SEED={seed:#x} case {n}: to_header() {header:?} has control characters"
            );
        }
    }
    assert!(parsed > iters / 20, "only {parsed} of {iters} lists parsed");
}

#[test]
fn random_header_blocks_give_valid_headers() {
    let seed = seed() ^ 0xb10c;
    let iters = env_u64("FUZZ_ITERS").unwrap_or(DEFAULT_ITERS) / 2;
    let mut parsed = 0u64;
    for n in 0..iters {
        let mut rng = Rng::for_case(seed, n);
        let mut block = String::new();
        for _ in 0..rng.below(6) {
            let name = header_name(&mut rng);
            let value = header_value(&mut rng, &name);
            block.push_str(&name);
            block.push_str(": ");
            block.push_str(&value);
            block.push_str(rng.pick(&["\r\n", "\n", "\r", "\r\n ", "\r\n\r\n", ""]));
        }
        if rng.chance(20) {
            block = random_text(&mut rng, 100);
        }
        let result = no_panic("parse_header_block", || parse_header_block(&block))
            .unwrap_or_else(|e| panic!("FUZZ_SEED={seed:#x} case {n}: {e}\ninput: {block:?}"));
        let Ok(headers) = result else { continue };
        parsed += 1;
        if let Err(e) = check_parsed_block(&block, &headers) {
            panic!("FUZZ_SEED={seed:#x} case {n}: {e}\ninput: {block:?}");
        }
    }
    assert!(
        parsed > iters / 50,
        "only {parsed} of {iters} blocks parsed"
    );
}

/// Known injection shapes, each either refused or without `evil@x.test` in the envelope or a
/// header line of its own.
#[test]
fn targeted_injection_attempts() {
    let from = ("From", "wiki@example.org");
    type Attempt<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: &[Attempt] = &[
        // (to, subject, headers)
        ("a@example.org\r\nBcc: evil@x.test", "s", &[from]),
        ("a@example.org\nBcc: evil@x.test", "s", &[from]),
        ("a@example.org\rBcc: evil@x.test", "s", &[from]),
        ("a@example.org>\r\nRCPT TO:<evil@x.test", "s", &[from]),
        ("<a@example.org>\r\nRCPT TO:<evil@x.test>", "s", &[from]),
        ("a@example.org\0evil@x.test", "s", &[from]),
        ("a@example.org", "s\r\nBcc: evil@x.test", &[from]),
        ("a@example.org", "s\nTo: evil@x.test", &[from]),
        ("a@example.org", "s\r\n\r\nBcc: evil@x.test", &[from]),
        (
            "a@example.org",
            "s",
            &[from, ("X-A", "v\r\nBcc: evil@x.test")],
        ),
        ("a@example.org", "s", &[from, ("X-A", "v\nTo: evil@x.test")]),
        ("a@example.org", "s", &[from, ("X-A", "v\rCc: evil@x.test")]),
        (
            "a@example.org",
            "s",
            &[from, ("X-A", "v\r\n\r\nBcc: evil@x.test")],
        ),
        ("a@example.org", "s", &[from, ("X-A\r\nBcc", "evil@x.test")]),
        (
            "a@example.org",
            "s",
            &[from, ("Cc", "b@example.org\r\nBcc: evil@x.test")],
        ),
        (
            "a@example.org",
            "s",
            &[from, ("Cc", "b@example.org>\r\nRCPT TO:<evil@x.test")],
        ),
        (
            "a@example.org",
            "s",
            &[("From", "w@example.org>\r\nRCPT TO:<evil@x.test")],
        ),
        (
            "a@example.org",
            "s",
            &[from, ("Return-Path", "<b@x>\r\nRCPT TO:<evil@x.test>")],
        ),
        (
            "a@example.org",
            "s",
            &[from, ("Reply-To", "Jörg\r\nBcc: evil@x.test")],
        ),
    ];
    for (to, subject, headers) in cases {
        let draft = Draft {
            to: to.to_string(),
            subject: subject.to_string(),
            body: b"Body\n".to_vec(),
            headers: headers.iter().map(|(n, v)| Header::new(*n, *v)).collect(),
            idhost: "wiki.example.org".into(),
            ..Default::default()
        };
        let case = Case {
            to: draft.to.clone(),
            subject: draft.subject.clone(),
            body: draft.body.clone(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            block: None,
            envelope_from: None,
            default_from: None,
        };
        check_case(&case).unwrap_or_else(|e| panic!("{case:?}: {e}"));
        if let Ok(p) = draft.build() {
            assert!(
                !p.rcpts.iter().any(|r| r.eq_ignore_ascii_case(EVIL)),
                "{case:?}: {:?}",
                p.rcpts
            );
            let text = String::from_utf8_lossy(&p.data);
            let head = text.split("\r\n\r\n").next().unwrap_or("");
            for line in head.split("\r\n") {
                let lower = line.to_ascii_lowercase();
                assert!(
                    !(lower.starts_with("bcc:") || lower.starts_with("rcpt")),
                    "{case:?}: header line {line:?}"
                );
                if line.contains(EVIL) {
                    // Only inside an existing header's text (Subject, X-A), never as its own.
                    assert!(
                        lower.starts_with("subject:") || lower.starts_with("x-a:"),
                        "{case:?}: header line {line:?}"
                    );
                }
            }
        }
    }

    // The same shapes through the string form of additional headers (where a lone CR or LF
    // does separate headers: the block is the caller's own header text).
    for block in [
        "From: wiki@example.org\r\nX-A: v\r\n\r\nBcc: evil@x.test",
        "From: wiki@example.org\nX-A: v\n\nBcc: evil@x.test",
        "From: wiki@example.org\r\n\r\n",
        "\r\nBcc: evil@x.test",
    ] {
        match parse_header_block(block) {
            Err(_) => {}
            Ok(h) => assert!(
                !h.iter().any(|h| h.value.contains(EVIL)),
                "{block:?} gave {h:?}"
            ),
        }
    }
    // A block whose own Bcc header is honoured (asked for), but never shown.
    let h = parse_header_block("From: wiki@example.org\r\nBcc: evil@x.test\r\n").unwrap();
    let p = Draft {
        to: "a@example.org".into(),
        subject: "s".into(),
        body: b"b".to_vec(),
        headers: h,
        idhost: "wiki.example.org".into(),
        ..Default::default()
    }
    .build()
    .unwrap();
    assert_eq!(p.rcpts, ["a@example.org", EVIL]);
    assert!(!String::from_utf8_lossy(&p.data).contains(EVIL));
}

/// The envelope sender can come from Return-Path, `-f` (`envelope_from`) or `sendmail_from`
/// (`default_from`): like the To/Cc/Bcc/From addresses (which `parse_list` checks), it must
/// not hold control characters, C1 ones (U+0080 to U+009F, such as NEL and CSI) included.
#[test]
fn envelope_sender_has_no_control_characters() {
    let mut accepted = Vec::new();
    for c in ['\u{1}', '\u{7f}', '\u{85}', '\u{9b}'] {
        let addr = format!("bounce@ex{c}ample.org");
        let base = Draft {
            to: "a@example.org".into(),
            subject: "s".into(),
            body: b"b".to_vec(),
            idhost: "wiki.example.org".into(),
            ..Default::default()
        };
        // The same character in From (parse_list) is refused: the reference behaviour.
        let mut from = base.clone();
        from.headers = vec![Header::new("From", addr.clone())];
        assert!(from.build().is_err(), "From {addr:?} accepted");
        for (how, draft) in [
            ("Return-Path", {
                let mut d = base.clone();
                d.headers = vec![Header::new("Return-Path", format!("<{addr}>"))];
                d
            }),
            ("envelope_from (-f)", {
                let mut d = base.clone();
                d.envelope_from = Some(addr.clone());
                d
            }),
            ("default_from (sendmail_from)", {
                let mut d = base.clone();
                d.default_from = Some(addr.clone());
                d
            }),
        ] {
            if let Ok(p) = draft.build() {
                accepted.push(format!("{how}: {:?}", p.from));
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "envelope senders with control characters accepted:\n{}",
        accepted.join("\n")
    );
}

#[test]
fn the_checker_itself_catches_violations() {
    // Guard against a property check that can never fail.
    assert!(written_in("a@example.org", "Ann <A@Example.org>"));
    assert!(written_in("a@example.org", "a@(comment)example.org"));
    assert!(!written_in("evil@x.test", "a@example.org"));
    assert!(!envelope_address_ok("a@b>\r\nRCPT"));
    assert!(!envelope_address_ok("a>b@example.org"));
    assert!(!envelope_address_ok("\"a\r\n\"@example.org"));
    assert!(envelope_address_ok("a@example.org"));
    assert!(envelope_address_ok("\"a <b>\"@example.org"));
    let mut s = "xxAyy".to_string();
    shrink_string(&mut s, &mut |c: &str| c.contains('A'));
    assert_eq!(s, "A");
}
