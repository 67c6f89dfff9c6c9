//! Resource properties of every parser and encoder that PHP input reaches: addresses, groups,
//! comments, quoted strings, header blocks, encoded words, the message builder, mail()'s
//! compatibility checks and SMTP reply parsing. Each worst-case shape of about 1 MB runs in a
//! child process (this test binary again, running the ignored `child` test), so that a stack
//! overflow is a failed case rather than a dead test run, and so that the child's peak RSS
//! (`VmHWM` in /proc/self/status) belongs to that one case.
//!
//! Per case: the child exits normally (no crash), the case takes under 2 s (a generous "does
//! not hang" bound, see `MAX_TIME`; before the fixes 30,000 nested groups overflowed the stack
//! and 44,000 recipients took 272 s), and the
//! peak RSS grows by less than `MAX_GROWTH_MB` while the case runs (the input is built before
//! the first reading).

use std::process::Command;
use std::time::{Duration, Instant};

use smtp::address::{parse_list, parse_mailbox, strip_comments};
use smtp::encode::encode_words;
use smtp::mail_compat::{envelope_from_params, has_malformed_newlines, log_line};
use smtp::message::{normalize_crlf, parse_header_block, sanitize_line, Draft, Header};
use smtp::transport::reply;

const MB: usize = 1 << 20;
/// Peak RSS growth allowed for one case of about 1 MB of input.
const MAX_GROWTH_MB: u64 = 48;
/// 2 s for an optimised build; a debug build (plain `cargo test`) runs the same code about
/// five times slower, so it gets 10 s. Before the fixes the worst shapes took minutes or
/// crashed, so either bound still tells linear from quadratic.
const MAX_TIME: Duration = Duration::from_secs(if cfg!(debug_assertions) { 10 } else { 2 });

/// `n` copies of `unit`, cut to at most `MB` bytes in all.
fn rep(unit: &str, n: usize) -> String {
    unit.repeat(n.min(MB / unit.len().max(1)))
}

fn draft(to: String, subject: String, headers: Vec<Header>, body: Vec<u8>) -> Draft<'static> {
    Draft {
        to,
        subject,
        // Leaked: the child process ends right after its one case.
        body: Vec::leak(body),
        headers,
        idhost: "id.example.test".into(),
        ..Default::default()
    }
}

fn from() -> Header {
    Header::new("From", "w@example.test")
}

/// Runs the case; the result is only looked at so the work is not optimised away.
type Case = fn() -> Box<dyn FnOnce() -> usize>;

fn cases() -> Vec<(&'static str, Case)> {
    vec![
        // Addresses
        ("deep_groups", || {
            let s = rep("a:", MB) + "x@example.test";
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("deep_groups_in_to", || {
            let to = rep("a:", 30_000) + "x@example.test";
            Box::new(move || {
                draft(to, "s".into(), vec![from()], b"b".to_vec())
                    .build()
                    .is_ok() as usize
            })
        }),
        ("group_then_many_semicolons", || {
            let s = String::from("g:") + &rep(";", MB);
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("nested_comments", || {
            let s = rep("(", MB / 2) + &rep(")", MB / 2) + "x@example.test";
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("unclosed_comments", || {
            let s = rep("(", MB) + "x@example.test";
            Box::new(move || strip_comments(&s).map_or(0, |t| t.len()))
        }),
        ("many_commas", || {
            let s = rep(",", MB) + "x@example.test";
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("many_recipients", || {
            let s: String = (0..MB / 24)
                .map(|i| format!("r{i}@example.test,"))
                .collect();
            Box::new(move || {
                draft(s, "s".into(), vec![from()], b"b".to_vec())
                    .build()
                    .map_or(0, |p| p.rcpts.len())
            })
        }),
        ("long_quoted_name", || {
            let s = format!("\"{}\" <x@example.test>", rep("a", MB));
            Box::new(move || parse_mailbox(&s).map_or(0, |m| m.to_header().len()))
        }),
        ("many_quotes", || {
            let s = rep("\"a\\\"", MB) + " <x@example.test>";
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("long_address", || {
            let s = rep("a", MB) + "@example.test";
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("long_unicode_domain", || {
            let s = String::from("x@") + &rep("ü", MB);
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("long_utf8_local_part", || {
            let s = rep("o\u{301}", MB / 3) + "@example.test";
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("many_unicode_domains", || {
            let s: String = (0..MB / 24)
                .map(|i| format!("r{i}@bücher.example,"))
                .collect();
            Box::new(move || {
                draft(s, "s".into(), vec![from()], b"b".to_vec())
                    .build()
                    .map_or(0, |p| p.rcpts.len())
            })
        }),
        ("many_angle_brackets", || {
            let s = rep("<", MB) + "x@example.test" + &rep(">", 1000);
            Box::new(move || parse_list(&s).map_or(0, |l| l.len()))
        }),
        ("long_utf8_display_names", || {
            let s = format!("{} <x@example.test>", rep("Grüße ", MB));
            Box::new(move || {
                draft(s, "s".into(), vec![from()], b"b".to_vec())
                    .build()
                    .map_or(0, |p| p.data.len())
            })
        }),
        // Header blocks and values
        ("one_mb_header_value", || {
            let v = rep("word ", MB);
            Box::new(move || {
                draft(
                    "a@example.test".into(),
                    "s".into(),
                    vec![from(), Header::new("X-Long", v)],
                    b"b".to_vec(),
                )
                .build()
                .map_or(0, |p| p.data.len())
            })
        }),
        ("one_mb_unbreakable_header_value", || {
            let v = rep("x", MB);
            Box::new(move || {
                draft(
                    "a@example.test".into(),
                    "s".into(),
                    vec![from(), Header::new("X-Long", v)],
                    b"b".to_vec(),
                )
                .build()
                .map_or(0, |p| p.data.len())
            })
        }),
        ("many_folded_lines", || {
            let block = String::from("From: w@example.test\r\nX-A: a") + &rep("\r\n b", MB);
            Box::new(move || {
                let Ok(h) = parse_header_block(&block) else {
                    return 0;
                };
                draft("a@example.test".into(), "s".into(), h, b"b".to_vec())
                    .build()
                    .map_or(0, |p| p.data.len())
            })
        }),
        ("many_header_lines", || {
            let block = String::from("From: w@example.test") + &rep("\nX-A: b", MB);
            Box::new(move || {
                let Ok(h) = parse_header_block(&block) else {
                    return 0;
                };
                draft("a@example.test".into(), "s".into(), h, b"b".to_vec())
                    .build()
                    .map_or(0, |p| p.data.len())
            })
        }),
        ("many_lone_crs_in_headers", || {
            let block = String::from("From: w@example.test\r\nX-A: ") + &rep("\rB", MB);
            Box::new(move || parse_header_block(&block).map_or(0, |h| h.len()))
        }),
        ("many_lone_crs_in_subject", || {
            let s = rep("\r", MB);
            Box::new(move || sanitize_line(&s).len())
        }),
        ("many_lone_crs_in_body", || {
            let b = rep("\r", MB).into_bytes();
            Box::new(move || {
                draft("a@example.test".into(), "s".into(), vec![from()], b)
                    .build()
                    .map_or(0, |p| p.data.len())
            })
        }),
        ("many_lfs_in_body", || {
            let b = rep("\n", MB).into_bytes();
            Box::new(move || normalize_crlf(&b).len())
        }),
        ("one_long_body_line", || {
            let b = rep("a", MB).into_bytes();
            Box::new(move || {
                draft("a@example.test".into(), "s".into(), vec![from()], b)
                    .build()
                    .map_or(0, |p| p.data.len())
            })
        }),
        ("eight_bit_long_body_line", || {
            let b = rep("ü", MB).into_bytes();
            Box::new(move || {
                draft("a@example.test".into(), "s".into(), vec![from()], b)
                    .build()
                    .and_then(|p| p.seven_bit().map(|p| p.data.len()))
                    .unwrap_or(0)
            })
        }),
        // Encoded words
        ("encoded_words_subject", || {
            let s = rep("=?utf-8?q?a?= ", MB);
            Box::new(move || {
                draft("a@example.test".into(), s, vec![from()], b"b".to_vec())
                    .build()
                    .map_or(0, |p| p.data.len())
            })
        }),
        ("encoded_word_without_spaces", || {
            let s = String::from("=?utf-8?q?") + &rep("=C3=BC", MB) + "?=";
            Box::new(move || {
                draft("a@example.test".into(), s, vec![from()], b"b".to_vec())
                    .build()
                    .map_or(0, |p| p.data.len())
            })
        }),
        ("utf8_subject", || {
            let s = rep("ü", MB);
            Box::new(move || encode_words(&s).len())
        }),
        // mail() compatibility
        ("malformed_newline_scan", || {
            let s = String::from("X-A: b") + &rep("\r\n b", MB);
            Box::new(move || has_malformed_newlines(s.as_bytes()) as usize)
        }),
        ("sendmail_params", || {
            let s = rep("-f \"a' ", MB);
            Box::new(move || envelope_from_params(&s).map_or(0, |a| a.map_or(0, |a| a.len())))
        }),
        ("log_line", || {
            let h = rep("X: y\r\n", MB);
            Box::new(move || log_line("/x.php", 1, "a@b.c", Some(&h), "s").len())
        }),
        // SMTP replies
        ("reply_many_lines", || {
            let r = rep("250-x\r\n", MB) + "250 ok\r\n";
            Box::new(move || {
                reply::complete_len(r.as_bytes()).unwrap_or(0)
                    + reply::parse(r.as_bytes()).map_or(0, |(r, _)| r.code as usize)
            })
        }),
        ("reply_one_long_line", || {
            let r = String::from("250 ") + &rep("x", MB) + "\r\n";
            Box::new(move || reply::parse(r.as_bytes()).map_or(0, |(r, _)| r.code as usize))
        }),
        ("reply_bare_lf_lines", || {
            let r = rep("250-\n", MB) + "250 ok\n";
            Box::new(move || reply::parse(r.as_bytes()).map_or(0, |(r, _)| r.code as usize))
        }),
    ]
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child side: runs the case named in `RESOURCE_CASE` and prints what it cost.
#[test]
#[ignore = "run by resource_cases in a child process"]
fn child() {
    let Ok(name) = std::env::var("RESOURCE_CASE") else {
        return;
    };
    let (_, make) = cases()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    let run = make();
    let before = peak_rss_kb();
    let start = Instant::now();
    let out = std::hint::black_box(run());
    let took = start.elapsed();
    let after = peak_rss_kb();
    println!(
        "RESOURCE {name} micros={} before_kb={before} after_kb={after} out={out}",
        took.as_micros()
    );
}

fn field(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
}

#[test]
fn resource_cases() {
    let exe = std::env::current_exe().unwrap();
    let mut failures = Vec::new();
    for (name, _) in cases() {
        let out = Command::new(&exe)
            .args([
                "child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("RESOURCE_CASE", name)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The test harness prints "test child ... " on the same line.
        let Some(line) = stdout
            .lines()
            .find_map(|l| l.find("RESOURCE ").map(|i| &l[i..]))
        else {
            failures.push(format!(
                "{name}: the child died ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ));
            continue;
        };
        let took = Duration::from_micros(field(line, "micros="));
        let growth_mb = field(line, "after_kb=").saturating_sub(field(line, "before_kb=")) / 1024;
        eprintln!("{name}: {took:?}, peak RSS +{growth_mb} MB");
        if took > MAX_TIME {
            failures.push(format!("{name}: took {took:?}"));
        }
        if growth_mb > MAX_GROWTH_MB {
            failures.push(format!("{name}: peak RSS grew by {growth_mb} MB"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
