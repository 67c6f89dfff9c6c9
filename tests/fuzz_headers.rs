//! Property test ("fuzzer") for the message builder and the header and address parsers: random
//! bytes and structured-random inputs full of CR, LF, NUL, quotes, brackets and injection
//! fragments go into `Draft::build()`, `parse_header_block()` and `parse_list()`.
//!
//! Properties, for every input:
//! - nothing panics (a panic in the code under test fails the case, and the failure names the
//!   function, the panic's place in the source and its message);
//! - when `build()` succeeds:
//!   - (a) every envelope recipient is an address written in the To argument or a To/Cc/Bcc
//!     header (case-insensitively; comments and folding aside);
//!   - (b) every line of the header section is a continuation (space or tab first) or starts a
//!     header whose name was given in the input or is one the builder adds;
//!   - (c) the header section has CRLF line ends only, and no NUL;
//!   - (d) no header line is longer than 998 octets;
//!   - (e) `evil@x.test` is a recipient only when To/Cc/Bcc named it;
//!   - the envelope addresses have no ASCII control character, nor a space, `<` or `>` outside
//!     a quoted local part, and Bcc and Return-Path never reach the message;
//! - what `parse_header_block()` returns passes `check_name`/`check_value` and names only
//!   headers written in the block; what `parse_list()` returns is clean envelope addresses
//!   written in its input, and their `to_header()` has no control character.
//!
//! The inputs are proptest strategies (see "Input strategies" below). Half the drafts are
//! "tame" (no CR, LF or NUL outside folding, mostly valid addresses) so that enough of them get
//! through `build()` to test its output; the other half are wild. A failing case is shrunk by
//! proptest over the generator's choices (fewer headers, fewer fragments, simpler picks) and
//! the test panics with the property that failed and the shrunk input.
//!
//! Runs are reproducible: the default seed is fixed, so the same cases run every time (a red run
//! is the change's doing, not luck). Environment variables, read by proptest:
//! - `PROPTEST_CASES=<n>`: cases per property test (`CASES` when not set);
//! - `PROPTEST_RNG_SEED=<u64>`: other cases than the default seed's;
//! - `PROPTEST_DISABLE_FAILURE_PERSISTENCE=1`: do not record failures.
//!
//! A failure's seed is appended to `tests/proptest-regressions/fuzz_headers.txt` (one line, the
//! shrunk input as a comment), and every later run of the three property tests replays the
//! seeds in that file before its own cases: commit the file with the fix, so the case stays
//! tested. Proptest shrinks for up to 4 steps per case of the run (or
//! `PROPTEST_MAX_SHRINK_ITERS`), so a replay with a small `PROPTEST_CASES` shrinks less.
//!
//! Longer runs, in release mode: per 100 000 cases, about 4 s of CPU for the draft test and 2 s
//! for the two parser tests, which run beside it (a million cases: under a minute on 2 cores).
//! The separate target dir keeps this build's `libsmtp.so`, which has no PHP binding, away from
//! `target/release/deps/`, where `cargo build --release` links the extension. Other seeds than
//! the default one find other cases:
//!
//! ```sh
//! CARGO_TARGET_DIR=target/fuzz PROPTEST_CASES=1000000 \
//!     cargo test --release --no-default-features --test fuzz_headers
//! CARGO_TARGET_DIR=target/fuzz PROPTEST_RNG_SEED=$RANDOM$RANDOM PROPTEST_CASES=1000000 \
//!     cargo test --release --no-default-features --test fuzz_headers
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::Union;
use proptest::string::string_regex;
use proptest::test_runner::{
    contextualize_config, Config, FileFailurePersistence, RngAlgorithm, RngSeed, TestCaseError,
    TestError, TestRunner,
};

use smtp::address::{parse_list, strip_comments};
use smtp::message::{check_name, check_value, parse_header_block, Draft, Header, Prepared};

/// Seed of the default run.
const DEFAULT_SEED: u64 = 0x5eed_f00d_cafe_b0b0;
/// Cases of each property test when `PROPTEST_CASES` is not set: the draft test, the slowest,
/// takes about 4 s in a debug build.
const CASES: u32 = 30_000;
/// Where failing seeds are recorded and replayed from.
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/proptest-regressions/fuzz_headers.txt"
);

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
// Input strategies
//
// Every list is in order of simplicity: proptest shrinks a pick towards the first item and a
// choice between strategies towards the first one.

/// Pieces that parsers and header writers trip over.
const FRAGMENTS: &[&str] = &[
    "x",
    "word",
    "Subject",
    "X-Y",
    "a@example.org",
    " ",
    "\t",
    "  ",
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
    "Bcc:",
    "ü",
    "€",
    "日本",
    "\u{feff}",
    "\u{2028}",
    "\u{85}",
    "Ann <ann@example.org>",
    "\"Doe, John\" <j@example.org>",
    "j@example.org (John)",
    "team: a@example.org, b@example.org;",
    "undisclosed-recipients:;",
    "=?UTF-8?B?SGk=?=",
    "evil@x.test",
    "<evil@x.test>",
    "EVIL@X.TEST",
    "%0d%0aBcc: evil@x.test",
    "\r",
    "\n",
    "\r\n",
    "\r\n ",
    "\r\n\t",
    "\n ",
    "\0",
    "\r\nBcc: evil@x.test",
    "\nTo: evil@x.test",
    "\rCc: evil@x.test",
    ">\r\nRCPT TO:<evil@x.test",
    "\r\n\r\nBcc: evil@x.test",
    "\r\n Bcc: evil@x.test",
    "\r\n\tTo: evil@x.test",
];

/// Header names whose value is an address list (the generator gives them one most of the time).
const ADDRESS_NAMES: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Bcc",
    "BCC",
    "Reply-To",
    "Sender",
    "Return-Path",
    "Resent-To",
];

const OTHER_NAMES: &[&str] = &[
    "Subject",
    "X-Mailer",
    "X-Custom",
    "Message-ID",
    "Date",
    "MIME-Version",
    "Content-Type",
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

/// Addresses beyond the list above: every character a dot-atom allows, display names, and
/// quoted local parts holding spaces, brackets, commas and `@`.
const ADDRESS_REGEXES: &[&str] = &[
    concat!(
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,4}){0,2}",
        r"@[A-Za-z0-9]([A-Za-z0-9-]{0,6}[A-Za-z0-9])?(\.[A-Za-z]{2,6}){0,2}",
    ),
    r"[A-Za-z][A-Za-z ]{0,10} <[a-z0-9_+]{1,8}(\.[a-z0-9_+-]{1,4})?@[a-z0-9]{1,8}\.(org|test)>",
    r#""[a-z <>@,.():;]{1,8}"@example\.org"#,
];

const SEPARATORS: &[&str] = &[
    ",", ", ", ",\r\n ", ",\r\n\t", " ", ";", "\r\n", "\n", "\r", ",,", "\0", ", \r\n",
];

/// Between two headers of a block (the CRLF twice as often as the others), and in tame mode.
const LINE_BREAKS: &[&str] = &["\r\n", "\n", "\r\n", "\r", "\r\n\r\n", "\n\n"];
const TAME_LINE_BREAKS: &[&str] = &["\r\n", "\n"];
/// Between a header's name and its value in a block.
const COLONS: &[&str] = &[": ", ":", " : ", ":\t"];
/// After each header of `any_header_block`.
const LINE_ENDS: &[&str] = &["\r\n", "\n", "\r", "\r\n ", "\r\n\r\n", ""];

/// Separators of mostly valid lists.
const TAME_SEPARATORS: &[&str] = &[",", ", ", ",\r\n ", ",\r\n\t", ",,", " , "];

/// CR or LF other than folding, or NUL.
fn breaks_lines(s: &str) -> bool {
    s.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .contains(['\r', '\n', '\0'])
}

type Text = BoxedStrategy<String>;

/// One of `items`, or in tame mode one without a line break or NUL.
fn pick(items: &'static [&'static str], tame: bool) -> BoxedStrategy<&'static str> {
    let items: Vec<&'static str> = items
        .iter()
        .copied()
        .filter(|s| !tame || !breaks_lines(s))
        .collect();
    select(items).boxed()
}

fn fragment(tame: bool) -> BoxedStrategy<&'static str> {
    pick(FRAGMENTS, tame)
}

fn regex(re: &str) -> Text {
    string_regex(re)
        .unwrap_or_else(|e| panic!("bad regex {re:?}: {e}"))
        .boxed()
}

/// Random bytes, mostly from the troublesome ones.
fn random_bytes(max: usize) -> BoxedStrategy<Vec<u8>> {
    const SPECIAL: &[u8] = b"\r\n\0:<>,\"(;) \t@.\\";
    let byte = prop_oneof![
        1 => b'a'..=b'z',
        1 => select(SPECIAL),
        2 => any::<u8>(),
    ];
    vec(byte, 0..=max).boxed()
}

fn random_text(max: usize) -> Text {
    random_bytes(max)
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
        .boxed()
}

/// A mix of fragments, letters and (when not tame) random bytes.
fn fragment_text(tame: bool, max_parts: usize) -> Text {
    let letters = regex("[a-z]{1,9}");
    let fragment = fragment(tame).prop_map(String::from);
    let part = if tame {
        prop_oneof![1 => letters, 5 => fragment].boxed()
    } else {
        prop_oneof![1 => letters, 4 => fragment, 1 => random_text(6)].boxed()
    };
    vec(part, 0..=max_parts).prop_map(|p| p.concat()).boxed()
}

/// One address: from the list, or made by a regex.
fn address() -> Text {
    let listed = select(ADDRESSES).prop_map(String::from);
    let made = Union::new(ADDRESS_REGEXES.iter().map(|re| regex(re)));
    prop_oneof![4 => listed, 1 => made].boxed()
}

/// An address from the list with a fragment spliced in somewhere.
fn spliced_address(tame: bool) -> Text {
    (select(ADDRESSES), any::<Index>(), fragment(tame))
        .prop_map(|(a, at, f)| {
            let mut cut = at.index(a.len() + 1);
            while !a.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}{f}{}", &a[..cut], &a[cut..])
        })
        .boxed()
}

/// Something like an address list, with separators and fragments mixed in (in tame mode
/// mostly valid lists).
fn address_text(tame: bool) -> Text {
    // Of 100 items, tame: 95 addresses, 1.5 fragment texts, 3.5 spliced; wild: 60, 12, 28.
    let item = if tame {
        prop_oneof![
            190 => address(),
            3 => fragment_text(true, 3),
            7 => spliced_address(true),
        ]
        .boxed()
    } else {
        prop_oneof![
            60 => address(),
            12 => fragment_text(false, 3),
            28 => spliced_address(false),
        ]
        .boxed()
    };
    let separator = pick(if tame { TAME_SEPARATORS } else { SEPARATORS }, tame);
    let tail = option::weighted(if tame { 0.01 } else { 0.1 }, fragment(tame));
    (item.clone(), vec((separator, item), 0..=4), tail)
        .prop_map(|(first, rest, tail)| {
            let mut s = first;
            for (sep, item) in rest {
                s.push_str(sep);
                s.push_str(&item);
            }
            s.push_str(tail.unwrap_or(""));
            s
        })
        .boxed()
}

/// A long value: words (foldable, with spaces or tabs) or one unbreakable run, maybe with
/// non-ASCII.
fn long_text() -> Text {
    let word = prop_oneof![7 => Just("word"), 3 => Just("wörd")];
    let glue = prop_oneof![4 => Just(" "), 1 => Just("\t"), 5 => Just("")];
    (word, 150usize..550, glue)
        .prop_map(|(word, n, glue)| vec![word; n].join(glue))
        .boxed()
}

/// Fragments, half the time between words.
fn plain_value(tame: bool) -> Text {
    (fragment_text(tame, 4), any::<bool>())
        .prop_map(|(v, wrap)| if wrap { format!("plain {v} text") } else { v })
        .boxed()
}

/// A header value: `usual` most of the time, else long, fragments or (wild) random bytes.
fn header_value(tame: bool, usual: Text) -> Text {
    if tame {
        prop_oneof![7 => usual, 1 => long_text(), 2 => fragment_text(true, 6)].boxed()
    } else {
        prop_oneof![
            6 => usual,
            1 => long_text(),
            2 => fragment_text(false, 6),
            1 => random_text(40),
        ]
        .boxed()
    }
}

/// A header: a known name (address lists for the address headers), or when not tame a name
/// made of fragments.
fn header(tame: bool) -> BoxedStrategy<(String, String)> {
    let address_header = (
        pick(ADDRESS_NAMES, tame).prop_map(String::from),
        header_value(tame, address_text(tame)),
    );
    let other_header = (
        pick(OTHER_NAMES, tame).prop_map(String::from),
        header_value(tame, plain_value(tame)),
    );
    if tame {
        prop_oneof![9 => address_header, 7 => other_header].boxed()
    } else {
        let value = header_value(false, plain_value(false));
        let odd_name = fragment_text(false, 2);
        let odd_x_name = fragment_text(false, 1).prop_map(|f| format!("X-{f}"));
        prop_oneof![
            36 => address_header,
            28 => other_header,
            8 => (odd_name, value.clone()),
            8 => (odd_x_name, value),
        ]
        .boxed()
    }
}

/// The input of one case: a draft, or a header block to parse and then build with.
#[derive(Clone)]
struct Case {
    to: String,
    subject: String,
    body: Vec<u8>,
    /// Empty when `block` is set.
    headers: Vec<(String, String)>,
    /// When set, the headers come from `parse_header_block` of this text instead.
    block: Option<String>,
    envelope_from: Option<String>,
    default_from: Option<String>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body", &format_args!("b\"{}\"", self.body.escape_ascii()))
            .field("headers", &self.headers)
            .field("block", &self.block)
            .field("envelope_from", &self.envelope_from)
            .field("default_from", &self.default_from)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Headers as (name, value) pairs, made of fragments and address lists.
    Headers,
    /// The same headers written as one block of text for `parse_header_block`, joined with
    /// line breaks of all kinds.
    Block,
    /// To, Subject and the extra headers (not From) are random bytes.
    Raw,
}

fn case(tame: bool, mode: Mode) -> BoxedStrategy<Case> {
    let raw = mode == Mode::Raw;
    let to = option::weighted(
        0.85,
        if raw {
            random_text(60)
        } else {
            address_text(tame)
        },
    )
    .prop_map(Option::unwrap_or_default);
    let subject = prop_oneof![
        7 => if raw { random_text(60) } else { fragment_text(tame, 5) },
        1 => long_text(),
    ];
    let body = prop_oneof![
        4 => fragment_text(tame, 6).prop_map(String::into_bytes),
        4 => random_bytes(80),
        // Lines over 998 octets, 8-bit or not, with lone CRs and LFs.
        1 => (vec(select(&["x", "\u{e9}", " ", "\r", "\n", "\r\n", "=", "."][..]), 0..40), 900..1300usize)
            .prop_map(|(parts, n)| {
                let mut b = "y".repeat(n).into_bytes();
                for p in parts {
                    b.extend_from_slice(p.as_bytes());
                    b.extend_from_slice(&[b'z'; 30]);
                }
                b
            }),
    ];
    let from = option::weighted(
        0.85,
        prop_oneof![
            9 => Just("Wiki <wiki@example.org>".to_string()),
            1 => address_text(tame),
        ],
    );
    let extra = if raw {
        (random_text(10), random_text(40)).boxed()
    } else {
        header(tame)
    };
    let envelope_from = option::weighted(0.1, address_text(tame));
    let default_from = option::weighted(
        0.2,
        prop_oneof![
            7 => Just("default@example.org".to_string()),
            3 => address_text(tame),
        ],
    );
    // For a block: what comes between two headers and between a name and its value (one each
    // for up to five headers), and maybe a fragment at the end.
    let joints = if mode == Mode::Block {
        let line_break = select(if tame { TAME_LINE_BREAKS } else { LINE_BREAKS });
        let colon = select(COLONS);
        (
            vec((line_break, colon), 5),
            option::weighted(0.3, fragment(tame)),
        )
            .prop_map(Some)
            .boxed()
    } else {
        Just(None).boxed()
    };
    (
        to,
        subject,
        body,
        from,
        vec(extra, 0..5),
        envelope_from,
        default_from,
        joints,
    )
        .prop_map(
            |(to, subject, body, from, extra, envelope_from, default_from, joints)| {
                let mut headers: Vec<(String, String)> = from
                    .map(|v| ("From".to_string(), v))
                    .into_iter()
                    .chain(extra)
                    .collect();
                let block = joints.map(|(joints, tail)| {
                    let mut b = String::new();
                    for (i, ((name, value), (line_break, colon))) in
                        headers.iter().zip(joints).enumerate()
                    {
                        if i > 0 {
                            b.push_str(line_break);
                        }
                        b.push_str(name);
                        b.push_str(colon);
                        b.push_str(value);
                    }
                    b.push_str(tail.unwrap_or(""));
                    b
                });
                if block.is_some() {
                    headers.clear();
                }
                Case {
                    to,
                    subject,
                    body,
                    headers,
                    block,
                    envelope_from,
                    default_from,
                }
            },
        )
        .boxed()
}

/// Any case: tame or wild, 70% headers, 20% header blocks, 10% raw bytes.
fn any_case() -> impl Strategy<Value = Case> {
    prop_oneof![
        35 => case(true, Mode::Headers),
        10 => case(true, Mode::Block),
        5 => case(true, Mode::Raw),
        35 => case(false, Mode::Headers),
        10 => case(false, Mode::Block),
        5 => case(false, Mode::Raw),
    ]
}

/// Input of `parse_list`: address lists (wild) or random bytes.
fn any_address_list() -> impl Strategy<Value = String> {
    prop_oneof![7 => address_text(false), 3 => random_text(80)]
}

/// Input of `parse_header_block`: up to five headers with any line end, or random bytes.
fn any_header_block() -> impl Strategy<Value = String> {
    let end = select(LINE_ENDS);
    let line =
        (header(false), end).prop_map(|((name, value), end)| format!("{name}: {value}{end}"));
    prop_oneof![
        4 => vec(line, 0..6).prop_map(|lines| lines.concat()),
        1 => random_text(100),
    ]
}

// ---------------------------------------------------------------------------------------------
// Running the cases

/// The run's settings: `default_cases` cases from the default seed, failures recorded in
/// `REGRESSIONS`; proptest's environment variables override them.
fn config(default_cases: u32) -> Config {
    contextualize_config(Config {
        cases: default_cases,
        rng_seed: RngSeed::Fixed(DEFAULT_SEED),
        // Cheaper than the default ChaCha, which takes most of the time in a debug build.
        rng_algorithm: RngAlgorithm::XorShift,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..Config::default()
    })
}

/// Runs `property` on inputs from `strategy`; a failure is shrunk and returned with the
/// property's message.
fn run<S: Strategy>(
    config: Config,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), String>,
) -> Result<(), TestError<S::Value>> {
    TestRunner::new(config).run(&strategy, |input| {
        property(input).map_err(TestCaseError::fail)
    })
}

/// `run` with the test's settings, panicking with the shrunk input on a failure.
fn check_all<S: Strategy>(
    test: &str,
    default_cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), String>,
) {
    match run(config(default_cases), strategy, property) {
        Ok(()) => {}
        Err(TestError::Fail(why, input)) => panic!(
            "{test}: property failed: {why}\nshrunk input: {input:#?}\n\
             (unless PROPTEST_DISABLE_FAILURE_PERSISTENCE is set, proptest has recorded the \
             case's seed in {REGRESSIONS}, whose seeds every run replays first)"
        ),
        Err(TestError::Abort(why)) => panic!("{test}: proptest gave up: {why}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Checking the properties

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static PANIC_PLACE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A panic inside the code under test is reported as a finding with its input, so the default
/// hook's message is silenced while it runs, on that thread only (other tests keep their
/// messages); the place of the panic is kept for the report.
fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let place = info.location().map(|l| l.to_string()).unwrap_or_default();
                PANIC_PLACE.with(|p| *p.borrow_mut() = place);
            } else {
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

/// Runs `f` with panic messages silenced and turns a panic into an `Err` that names `what`,
/// where it panicked and why.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    quiet_panics();
    let result = panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let place = PANIC_PLACE.with(|p| p.take());
        format!("{what} panicked at {place}: {}", panic_message(&*p))
    });
    QUIET.with(|q| q.set(false));
    result
}

/// True when `addr` is written in `text`: literally, or once comments and folding are taken
/// out (`a@(c)example.org` is `a@example.org`).
fn written_in(addr: &str, text: &str) -> bool {
    // A Unicode domain goes as its A-label, a UTF-8 local part in NFC: compare the Unicode
    // forms.
    let nfc = |s: &str| {
        icu_normalizer::ComposingNormalizerBorrowed::new_nfc()
            .normalize(s)
            .into_owned()
    };
    let addr = match addr.rsplit_once('@') {
        Some((local, domain)) if domain.contains("xn--") => {
            format!("{local}@{}", idna::domain_to_unicode(domain).0)
        }
        _ => addr.to_string(),
    };
    let addr = nfc(&addr).to_lowercase();
    let text = nfc(text).to_lowercase();
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
        body: &case.body,
        headers: headers.clone(),
        envelope_from: case.envelope_from.clone(),
        default_from: case.default_from.clone(),
        idhost: "wiki.example.org".into(),
        dsn: Default::default(),
        require_tls: false,
    };
    let built = no_panic("Draft::build", || draft.build())?;
    let Ok(p) = built else {
        return Ok(Outcome::BuildRefused);
    };
    check_built(&case.to, &headers, &p)?;
    Ok(Outcome::Built)
}

/// The properties of a message built from the To argument `to` and `headers`.
fn check_built(to: &str, headers: &[Header], p: &Prepared) -> Result<(), String> {
    // (a), (e): recipients come from To/Cc/Bcc only.
    let mut rcpt_text = to.to_string();
    for h in headers {
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
    // The null sender (`-f ''`) is the one empty envelope address.
    if !p.from.is_empty() && !envelope_address_ok(&p.from) {
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
    // (f) no line of the whole message over 998 octets, no bare CR or LF in it; (g) for a
    // 7-bit server the message is 7-bit, or refused.
    for (i, line) in p.data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > 998 {
            return Err(format!(
                "(f) line {i} of the message is {} octets",
                line.len()
            ));
        }
        if line.contains(&b'\r') {
            return Err(format!("(f) bare CR in line {i} of the message"));
        }
    }
    if p.data
        .windows(2)
        .enumerate()
        .any(|(i, w)| w[1] == b'\n' && w[0] != b'\r' || (i == 0 && w[0] == b'\n'))
    {
        return Err("(f) bare LF in the message".into());
    }
    if let Ok(seven) = p.seven_bit() {
        if !seven.data.is_ascii() || seven.eight_bit {
            return Err("(g) seven_bit() gave 8-bit data".into());
        }
    }
    Ok(())
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
        // sendmail reads lines ending at LF: a header starts the block or follows an LF,
        // never a lone CR (which a server further on may take as a line break).
        let starts_a_line =
            block.starts_with(&format!("{}:", h.name)) || block.contains(&format!("\n{}:", h.name));
        if !starts_a_line {
            return Err(format!(
                "parse_header_block made {:?} a header though no line starts with it",
                h.name
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn random_drafts_keep_the_header_and_envelope_rules() {
    let counts = Cell::new([0u64; 3]);
    check_all(
        "random_drafts_keep_the_header_and_envelope_rules",
        CASES,
        any_case(),
        |case| {
            let outcome = check_case(&case)?;
            let mut c = counts.get();
            c[outcome as usize] += 1;
            counts.set(c);
            Ok(())
        },
    );
    let [block_refused, build_refused, built] = counts.get();
    eprintln!(
        "fuzz_headers: {built} built, {build_refused} refused by build(), \
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
    let (tried, parsed) = (Cell::new(0u64), Cell::new(0u64));
    check_all(
        "random_address_lists_give_clean_addresses",
        CASES,
        any_address_list(),
        |input| {
            tried.set(tried.get() + 1);
            let Ok(list) = no_panic("parse_list", || parse_list(&input))? else {
                return Ok(());
            };
            parsed.set(parsed.get() + 1);
            for m in &list {
                if !envelope_address_ok(&m.addr) {
                    return Err(format!("parse_list gave {:?}", m.addr));
                }
                if !written_in(&m.addr, &input) {
                    return Err(format!("{:?} is not written in the input", m.addr));
                }
                let header = m.to_header();
                let unfolded = header.replace("\r\n ", " ");
                if unfolded.chars().any(|c| c.is_ascii_control() && c != '\t') {
                    return Err(format!("to_header() {header:?} has control characters"));
                }
            }
            Ok(())
        },
    );
    let (tried, parsed) = (tried.get(), parsed.get());
    assert!(parsed > tried / 20, "only {parsed} of {tried} lists parsed");
}

#[test]
fn random_header_blocks_give_valid_headers() {
    let (tried, parsed) = (Cell::new(0u64), Cell::new(0u64));
    check_all(
        "random_header_blocks_give_valid_headers",
        CASES,
        any_header_block(),
        |block| {
            tried.set(tried.get() + 1);
            let Ok(headers) = no_panic("parse_header_block", || parse_header_block(&block))? else {
                return Ok(());
            };
            parsed.set(parsed.get() + 1);
            check_parsed_block(&block, &headers)
        },
    );
    let (tried, parsed) = (tried.get(), parsed.get());
    assert!(
        parsed > tried / 50,
        "only {parsed} of {tried} blocks parsed"
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
            body: b"Body\n",
            headers: headers.iter().map(|(n, v)| Header::new(*n, *v)).collect(),
            idhost: "wiki.example.org".into(),
            ..Default::default()
        };
        let case = Case {
            to: draft.to.clone(),
            subject: draft.subject.clone(),
            body: draft.body.to_vec(),
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

    // The same shapes through the string form of additional headers (where LF separates
    // headers, as for sendmail: the block is the caller's own header text; a lone CR does not,
    // and is refused).
    for block in [
        "From: wiki@example.org\r\nReply-To: x@y.org\rBcc: evil@x.test",
        "From: wiki@example.org\rBcc: evil@x.test",
        "From: wiki@example.org\r\nX-A: v\r\n folded\rBcc: evil@x.test",
        "From: wiki@example.org\r\nX-A: v\r\n\r\nBcc: evil@x.test",
        "From: wiki@example.org\nX-A: v\n\nBcc: evil@x.test",
        "From: wiki@example.org\r\n\r\n",
        "\r\nBcc: evil@x.test",
    ] {
        match parse_header_block(block) {
            Err(_) => {}
            Ok(h) => assert!(
                !h.iter()
                    .any(|h| h.value.contains(EVIL) || h.name.eq_ignore_ascii_case("bcc")),
                "{block:?} gave {h:?}"
            ),
        }
    }
    // A block whose own Bcc header is honoured (asked for), but never shown.
    let h = parse_header_block("From: wiki@example.org\r\nBcc: evil@x.test\r\n").unwrap();
    let p = Draft {
        to: "a@example.org".into(),
        subject: "s".into(),
        body: b"b",
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
            body: b"b",
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

/// Guard against a property check that can never fail: each property's check, given a message
/// that breaks it, says so; a panic becomes a failure naming the function; and the runner finds,
/// shrinks and reports a failing case.
#[test]
fn the_checker_itself_catches_violations() {
    assert!(written_in("a@example.org", "Ann <A@Example.org>"));
    assert!(written_in("a@example.org", "a@(comment)example.org"));
    assert!(!written_in("evil@x.test", "a@example.org"));
    assert!(!envelope_address_ok("a@b>\r\nRCPT"));
    assert!(!envelope_address_ok("a>b@example.org"));
    assert!(!envelope_address_ok("\"a\r\n\"@example.org"));
    assert!(envelope_address_ok("a@example.org"));
    assert!(envelope_address_ok("\"a <b>\"@example.org"));

    // A real message passes; each way of breaking it is caught by its property.
    let headers = vec![
        Header::new("From", "wiki@example.org"),
        Header::new("Bcc", "b@example.org"),
        Header::new("X-A", "v"),
    ];
    let good = Draft {
        to: "a@example.org".into(),
        subject: "s".into(),
        body: b"Body\n",
        headers: headers.clone(),
        idhost: "wiki.example.org".into(),
        ..Default::default()
    }
    .build()
    .unwrap();
    check_built("a@example.org", &headers, &good).unwrap();
    let caught = |expected: &str, change: &dyn Fn(&mut Prepared)| {
        let mut p = good.clone();
        change(&mut p);
        let why = check_built("a@example.org", &headers, &p).expect_err("a broken message passed");
        assert!(why.contains(expected), "expected {expected:?}, got {why:?}");
    };
    // A line put in before the first line of the message.
    let prepend = |p: &mut Prepared, line: &str| {
        p.data.splice(0..0, line.bytes());
    };
    caught("(a)", &|p| p.rcpts.push(EVIL.into()));
    caught("not a clean envelope address", &|p| {
        p.rcpts
            .push("a@example.org>\r\nRCPT TO:<a@example.org".into())
    });
    caught("sender", &|p| p.from = "wiki@example.org\r\n".into());
    caught("(b) header line 0 starts a header nobody asked for", &|p| {
        prepend(p, "X-B: 1\r\n")
    });
    caught("(b) header line 0 has no name", &|p| {
        prepend(p, "no colon\r\n")
    });
    caught("(b) the header section starts with a continuation", &|p| {
        prepend(p, " x\r\n")
    });
    caught("bcc header left", &|p| prepend(p, "Bcc: b@example.org\r\n"));
    caught("(c) bare CR or LF", &|p| {
        prepend(p, "X-A: v\nBcc: b@example.org\r\n")
    });
    caught("(c) NUL", &|p| prepend(p, "X-A: v\0\r\n"));
    caught("(d) header line 0 is 999 octets", &|p| {
        prepend(p, &format!("X-A: {}\r\n", "v".repeat(994)))
    });
    caught("no empty line", &|p| p.data.retain(|&b| b != b'\n'));
    caught("of the message is 999 octets", &|p| {
        p.data.extend_from_slice(&[b'b'; 999]);
    });
    caught("(f) bare CR", &|p| p.data.extend_from_slice(b"a\rb\r\n"));
    caught("(f) bare LF", &|p| p.data.extend_from_slice(b"a\nb\r\n"));

    // Header blocks: a header that `build()` would refuse, or a name not in the text.
    assert!(check_parsed_block("X-A: v", &[Header::new("X-A", "v\r\nBcc: e@x")]).is_err());
    assert!(check_parsed_block("X-A: v", &[Header::new("X-B", "v")]).is_err());
    check_parsed_block("X-A: v", &[Header::new("X-A", "v")]).unwrap();

    // A panic in the code under test is a failure that says what, where and why.
    let why = no_panic::<()>("Draft::build", || panic!("boom")).unwrap_err();
    assert!(why.starts_with("Draft::build panicked at "), "{why}");
    assert!(
        why.contains("fuzz_headers.rs") && why.ends_with(": boom"),
        "{why}"
    );

    // The runner finds a failing case and shrinks it: "no recipient is evil@x.test" fails on
    // the cases that ask for it, and the smallest of them is one short address.
    let config = Config {
        cases: 10_000,
        rng_seed: RngSeed::Fixed(DEFAULT_SEED),
        rng_algorithm: RngAlgorithm::XorShift,
        failure_persistence: None,
        ..Config::default()
    };
    let result = run(config, any_case(), |case| {
        let draft = Draft {
            to: case.to.clone(),
            headers: case
                .headers
                .iter()
                .map(|(n, v)| Header::new(n, v))
                .collect(),
            idhost: "wiki.example.org".into(),
            ..Default::default()
        };
        match draft.build() {
            Ok(p) if p.rcpts.iter().any(|r| r == EVIL) => Err(format!("{EVIL} is a recipient")),
            _ => Ok(()),
        }
    });
    let Err(TestError::Fail(why, small)) = result else {
        panic!("a failing property passed: {result:?}");
    };
    assert_eq!(why.message(), format!("{EVIL} is a recipient"));
    // Everything the property does not need is gone: no subject, body or envelope settings,
    // at most the From header and one other, and a short address list.
    assert!(
        small.subject.is_empty()
            && small.body.is_empty()
            && small.envelope_from.is_none()
            && small.default_from.is_none()
            && small.headers.len() <= 2,
        "not shrunk: {small:?}"
    );
    let rcpt_text = std::iter::once(&small.to)
        .chain(small.headers.iter().map(|(_, v)| v))
        .find(|t| t.to_lowercase().contains(EVIL))
        .unwrap_or_else(|| panic!("{EVIL} not in {small:?}"));
    assert!(rcpt_text.len() <= 30, "not shrunk: {small:?}");
}
