//! The generator: `mail()` calls made of the shapes that break mailers. Lone CR, LF and NUL
//! anywhere, folding, lines over 998 octets, 8-bit text (UTF-8, Latin-1, broken UTF-8), deep
//! groups and comments, dots at line starts, huge values, To/Cc/Bcc in the header argument,
//! `-f` in the parameters, headers given as an array. Most parts are usual mail (valid
//! addresses, a From header) so that enough cases get past both sides' checks to compare what
//! they deliver; the shapes are spliced in.
//!
//! Proptest strategies, drawn with a seeded RNG (no shrinking: a difference is reduced by hand
//! and kept in regressions.jsonl).

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::case::{ArrayHeader, Case, Headers};

type Bytes = BoxedStrategy<Vec<u8>>;

/// Addresses every mailer takes.
const ADDRESSES: &[&str] = &[
    "a@example.org",
    "B.Two@Example.Org",
    "<c@example.org>",
    "Ann <ann@example.org>",
    "\"Doe, John\" <j@example.org>",
    "j@example.org (John)",
    "x+tag@sub.example.org",
];

/// Addresses that are valid but rare, or that Postfix takes and a stricter mailer may refuse.
const ODD_ADDRESSES: &[&str] = &[
    "team: t1@example.org, t2@example.org;",
    "undisclosed-recipients:;",
    "\"a\\\"b\" <q@example.org>",
    "\"quoted local\"@example.org",
    "(lead) d@example.org (trail (nested))",
    "<@route.example:r@example.org>",
    "plainuser",
];

/// Text pieces that are trouble somewhere: line breaks that are not folding, injections,
/// 8-bit bytes, structure characters.
const SHAPES: &[&[u8]] = &[
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n ",
    b"\r\n\t",
    b"\rBcc: evil@evil.test",
    b"\nBcc: evil@evil.test",
    b"\r\nBcc: evil@evil.test",
    b"\r\n Bcc: evil@evil.test",
    b"\r\n\r\nBcc: evil@evil.test",
    b"\r\rCc: evil@evil.test",
    b"\n\rTo: evil@evil.test",
    b"K\xf6ln",
    b"Gr\xfc\xdfe",
    b"Gr\xc3\xbc\xc3\x9fe",
    b"\xe2\x82\xac",
    b"\xff\xfe",
    b"\xc3",
    b"\xed\xa0\x80",
    b"=?UTF-8?B?SGk=?=",
    b"=?ISO-8859-1?Q?K=F6ln?=",
    b"(comment (nested) \\) )",
    b"\"",
    b"<",
    b">",
    b",",
    b";",
    b":",
    b"@",
    b"\\",
    b" ",
    b"\t",
    b".",
];

const BODY_LINES: &[&[u8]] = &[
    b"",
    b".",
    b"..",
    b".dot at the start",
    b"From the start",
    b">From",
    b"plain text line",
    b"trailing space ",
    b"caf\xc3\xa9 UTF-8",
    b"caf\xe9 Latin-1",
    b"\xff\xfe broken",
    b"=3D not qp",
    b"line with a lone \r inside",
    b"\t tab first",
    b"--boundary",
    b"Content-Type: text/html",
];

const LINE_ENDS: &[&[u8]] = &[b"\n", b"\r\n", b"\n", b"\r\n", b"\r", b"\r\r\n", b"\n\r"];

const ADDRESS_NAMES: &[&str] = &[
    "From",
    "From",
    "Cc",
    "Bcc",
    "To",
    "Reply-To",
    "Sender",
    "Return-Path",
    "BCC",
    "cc",
];

const OTHER_NAMES: &[&str] = &[
    "Subject",
    "X-Mailer",
    "X-Custom",
    "Content-Type",
    "MIME-Version",
    "Content-Transfer-Encoding",
    "Date",
    "Message-ID",
    "X-Long",
    "Comments",
];

/// A shape; rarely a NUL, which PHP's mail() refuses in every argument (ValueError) before
/// either side sees it.
fn shape() -> Bytes {
    prop_oneof![
        60 => select(SHAPES).prop_map(|s| s.to_vec()),
        1 => Just(b"\0".to_vec()),
    ]
    .boxed()
}

fn letters() -> Bytes {
    "[a-z]{1,8}".prop_map(String::into_bytes).boxed()
}

fn address() -> Bytes {
    prop_oneof![
        6 => select(ADDRESSES),
        1 => select(ODD_ADDRESSES),
    ]
    .prop_map(|s| s.as_bytes().to_vec())
    .boxed()
}

/// A run that is long for its place: a line over 998 octets, or a huge value.
fn long_run() -> Bytes {
    let unit = select(vec![&b"x"[..], b"word ", b"w\xc3\xb6rd ", b"K\xf6ln "]);
    (unit, 900usize..2600)
        .prop_map(|(u, n)| u.repeat(n / u.len() + 1)[..n].to_vec())
        .boxed()
}

/// Deep groups (`a:a:a:...x@y;`) or comments (`((((...))))`).
fn deep() -> Bytes {
    (any::<bool>(), 1usize..3000)
        .prop_map(|(groups, n)| {
            if groups {
                let mut v = b"g:".repeat(n);
                v.extend_from_slice(b"deep@example.org");
                v.extend(b";".repeat(n));
                v
            } else {
                let mut v = b"deep@example.org ".to_vec();
                v.extend(b"(".repeat(n));
                v.extend(b")".repeat(n));
                v
            }
        })
        .boxed()
}

/// `usual`, or `usual` with shapes spliced in at random places.
fn spliced(usual: Bytes, wild: f64) -> Bytes {
    (
        usual,
        option::weighted(wild, vec((any::<prop::sample::Index>(), shape()), 1..4)),
    )
        .prop_map(|(mut v, splices)| {
            for (at, s) in splices.unwrap_or_default() {
                let i = at.index(v.len() + 1);
                v.splice(i..i, s);
            }
            v
        })
        .boxed()
}

fn address_list() -> Bytes {
    let sep = prop_oneof![
        12 => select(vec![&b", "[..], b",", b",\r\n ", b" , "]),
        1 => Just(&b";"[..]),
    ];
    (address(), vec((sep, address()), 0..3))
        .prop_map(|(first, rest)| {
            let mut v = first;
            for (s, a) in rest {
                v.extend_from_slice(s);
                v.extend(a);
            }
            v
        })
        .boxed()
}

fn text() -> Bytes {
    vec(prop_oneof![4 => letters(), 1 => shape()], 1..6)
        .prop_map(|parts| parts.join(&b' '))
        .boxed()
}

fn to() -> Bytes {
    prop_oneof![
        70 => spliced(address_list(), 0.12),
        4 => deep(),
        3 => long_run().prop_map(|mut v| { v.extend_from_slice(b" <long@example.org>"); v }),
        3 => Just(b"".to_vec()),
    ]
    .boxed()
}

fn subject() -> Bytes {
    prop_oneof![
        6 => text(),
        1 => long_run(),
        2 => spliced(letters(), 0.9),
    ]
    .boxed()
}

fn body() -> Bytes {
    let line = prop_oneof![
        8 => select(BODY_LINES).prop_map(|s| s.to_vec()),
        2 => text(),
        1 => long_run(),
    ];
    let huge = (1usize..4000).prop_map(|n| b"a huge body line\r\n".repeat(n));
    prop_oneof![
        12 => vec((line, select(LINE_ENDS)), 0..12).prop_map(|lines| {
            lines.into_iter().flat_map(|(l, e)| [l, e.to_vec()].concat()).collect()
        }),
        1 => huge,
    ]
    .boxed()
}

fn header() -> BoxedStrategy<(Vec<u8>, Vec<u8>)> {
    let addr = (
        select(ADDRESS_NAMES).prop_map(|n| n.as_bytes().to_vec()),
        prop_oneof![8 => spliced(address_list(), 0.1), 1 => deep(), 1 => long_run()],
    );
    let other = (
        select(OTHER_NAMES).prop_map(|n| n.as_bytes().to_vec()),
        prop_oneof![6 => text(), 1 => long_run(), 1 => spliced(letters(), 0.9)],
    );
    let odd = (spliced(letters(), 0.8), text());
    prop_oneof![5 => addr, 4 => other, 1 => odd].boxed()
}

fn headers() -> BoxedStrategy<Headers> {
    let from = b"From: Sender <sender@example.org>".to_vec();
    // Mostly what PHP accepts between headers; an empty line makes PHP refuse the call.
    let sep = prop_oneof![
        12 => Just(&b"\r\n"[..]),
        3 => Just(&b"\n"[..]),
        2 => Just(&b"\r"[..]),
        1 => Just(&b"\r\n\r\n"[..]),
    ];
    let text = (
        prop::bool::weighted(0.85),
        vec((sep, header()), 0..5),
        option::weighted(0.03, shape()),
    )
        .prop_map(move |(with_from, hs, tail)| {
            let mut v = if with_from { from.clone() } else { Vec::new() };
            for (i, (s, (name, value))) in hs.into_iter().enumerate() {
                if i > 0 || with_from {
                    v.extend_from_slice(s);
                }
                v.extend(name);
                v.extend_from_slice(b": ");
                v.extend(value);
            }
            v.extend(tail.unwrap_or_default());
            Headers::Text(v)
        });
    // A list is allowed for any name but From, To, Cc, Bcc, Reply-To, Subject and a few more
    // (PHP: "must be of type string"): sometimes given anyway, to see both refuse it.
    let entry = (header(), prop_oneof![6 => Just(0usize), 1 => 1usize..3]).prop_map(
        |((name, value), extra)| ArrayHeader {
            name,
            list: extra > 0,
            values: vec![value; extra.max(1)],
        },
    );
    let array = (prop::bool::weighted(0.85), vec(entry, 0..4)).prop_map(|(with_from, mut es)| {
        if with_from {
            es.insert(
                0,
                ArrayHeader {
                    name: b"From".to_vec(),
                    values: vec![b"Sender <sender@example.org>".to_vec()],
                    list: false,
                },
            );
        }
        Headers::Array(es)
    });
    prop_oneof![2 => Just(Headers::None), 7 => text, 2 => array].boxed()
}

fn params() -> BoxedStrategy<Option<Vec<u8>>> {
    let forms = select(vec![
        &b"-fbounce@example.org"[..],
        b"-f bounce@example.org",
        b"-f 'bounce@example.org'",
        b"-f \"bounce@example.org\"",
        b"-f bounce@example.org -oi",
        b"-oi -f bounce@example.org",
        b"-f \"bo unce\"@example.org",
        b"-f bounce",
        b"-f",
        b"-f ''",
        b"-f <bounce@example.org>",
    ])
    .prop_map(|s| s.to_vec());
    option::weighted(0.4, prop_oneof![8 => Just(b"-f bounce@example.org".to_vec()), 5 => forms, 1 => spliced(Just(b"-f bounce@example.org".to_vec()).boxed(), 0.99)])
        .boxed()
}

pub fn case() -> BoxedStrategy<Case> {
    (
        to(),
        subject(),
        body(),
        headers(),
        params(),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(to, subject, body, headers, params, seven_bit)| Case {
            to,
            subject,
            body,
            headers,
            params,
            seven_bit,
            note: String::new(),
        })
        .boxed()
}

/// `n` cases drawn from `seed`: the same every time for the same seed.
pub fn cases(seed: u64, n: usize) -> Vec<Case> {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..].copy_from_slice(&(!seed).to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::XorShift, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = case();
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("the strategies do not reject")
                .current()
        })
        .collect()
}
