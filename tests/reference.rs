//! The reference chain as the oracle: every generated `mail()` call is made by PHP's own
//! mail() through a private Postfix (sendmail, pickup, cleanup, then Postfix's SMTP client to a
//! capture server), by the extension's mail() (smtp.override_mail=1) to a twin capture server,
//! and (when the call has no additional_params) by smtp_send() with the same arguments to a
//! third; what arrived each way is compared with the reference (tests/reference/compare.rs says the rules,
//! tests/reference/README.md why). Zero differences passes.
//!
//! Run it alone (as root, with Postfix installed by scripts/setup.sh):
//!
//! ```sh
//! . scripts/php-env.sh && php_env_resolve && cargo build --release
//! cargo test --no-default-features --test reference
//! ```
//!
//! `make soak` runs it for longer with new seeds (REFERENCE_SOAK_SECS) and appends each case
//! that shows a difference to tests/reference/regressions.jsonl; every run replays that file
//! first. Environment: REFERENCE_CASES (generated cases, default 400), REFERENCE_SEED (default
//! fixed), REFERENCE_SOAK_SECS (0: one run), PHP (the php binary), PHP_SMTP_EXT (the built
//! extension; default target/release/libsmtp.so, which must be newer than src/).
//!
//! A custom test main (harness = false): it prints cargo's "test result:" line with one test
//! per case, so scripts/test.sh counts the cases. scripts/test.sh runs it after the release
//! build; in its earlier `cargo test` step PHP_SMTP_REFERENCE=later makes it skip.

mod common;

#[path = "reference/case.rs"]
mod case;
#[path = "reference/chain.rs"]
mod chain;
#[path = "reference/compare.rs"]
mod compare;
#[path = "reference/gen.rs"]
mod gen;
#[path = "reference/mime.rs"]
mod mime;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use case::Case;
use chain::{Chain, Tools};
use compare::{compare, Verdict};

const DEFAULT_SEED: u64 = 0x5eed_0014;
const DEFAULT_CASES: usize = 400;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
        .unwrap_or(default)
}

fn result_line(ok: bool, passed: usize, failed: usize, ignored: usize, secs: f64) {
    println!(
        "test result: {}. {passed} passed; {failed} failed; {ignored} ignored; 0 measured; \
         0 filtered out; finished in {secs:.2}s",
        if ok { "ok" } else { "FAILED" }
    );
}

fn skip(why: &str) -> ! {
    println!("reference: SKIPPED: {why}");
    result_line(true, 0, 0, 1, 0.0);
    std::process::exit(0);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("reference: test");
        return;
    }
    mime::self_check();
    if std::env::var("PHP_SMTP_REFERENCE").as_deref() == Ok("later") {
        skip("runs after the release build (scripts/test.sh)");
    }
    if let Some(why) = common::postfix::unavailable() {
        skip(&why);
    }
    let root = common::repo_root();
    let tools = Tools {
        php: std::env::var("PHP")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "php".into()),
        ext: extension(&root),
        send_php: root.join("tests/reference/send.php"),
    };
    let soak = Duration::from_secs(env_num("REFERENCE_SOAK_SECS", 0));
    let n = env_num("REFERENCE_CASES", DEFAULT_CASES as u64) as usize;
    let regressions_file = root.join("tests/reference/regressions.jsonl");

    let t0 = Instant::now();
    let mut seed = env_num("REFERENCE_SEED", DEFAULT_SEED);
    let (mut passed, mut failed) = (0, 0);
    let mut round = 0;
    loop {
        round += 1;
        // Read each round: a soak replays what the rounds before it added.
        let regressions = read_regressions(&regressions_file);
        let generated = gen::cases(seed, n);
        let mut all: Vec<(String, &Case)> = regressions
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("regression {}", i + 1), c))
            .collect();
        all.extend(
            generated
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("seed {seed:#x} case {i}"), c)),
        );
        let (p, f, new_failures) = run_round(&all, &tools, soak.max(Duration::from_secs(120)));
        passed += p;
        failed += f;
        if soak > Duration::ZERO && !new_failures.is_empty() {
            persist(&regressions_file, &regressions, &new_failures, seed);
        }
        if soak == Duration::ZERO || t0.elapsed() >= soak {
            break;
        }
        seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(round);
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "reference: {round} round(s), {} cases in {secs:.1} s",
        passed + failed
    );
    result_line(failed == 0, passed, failed, 0, secs);
    if failed > 0 {
        std::process::exit(101);
    }
}

/// The built extension: PHP_SMTP_EXT, else the release build, which must not be older than
/// the source (a stale build would test yesterday's code).
fn extension(root: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("PHP_SMTP_EXT").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let so = target.join("release/libsmtp.so");
    let built = fs::metadata(&so)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} not found: run `cargo build --release` first (or set PHP_SMTP_EXT)",
                so.display()
            )
        });
    let newest = newest_source(&root.join("src")).max(
        fs::metadata(root.join("Cargo.toml"))
            .and_then(|m| m.modified())
            .unwrap_or(UNIX_EPOCH),
    );
    if newest > built {
        panic!(
            "{} is older than the source: run `cargo build --release` first",
            so.display()
        );
    }
    so
}

fn newest_source(dir: &Path) -> SystemTime {
    let mut newest = UNIX_EPOCH;
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            newest_source(&p)
        } else {
            e.metadata()
                .and_then(|m| m.modified())
                .unwrap_or(UNIX_EPOCH)
        };
        newest = newest.max(t);
    }
    newest
}

fn read_regressions(path: &Path) -> Vec<Case> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
            Case::from_json(&v).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1))
        })
        .collect()
}

/// Appends the cases that showed a difference: one per kind of difference (the first
/// problem's words without its numbers and quoted parts) that the file has no case of yet, so
/// that a soak on a branch with a known difference adds one case for it, not hundreds.
fn persist(path: &Path, known: &[Case], failures: &[(Case, String)], seed: u64) {
    let mut text = fs::read_to_string(path).unwrap_or_default();
    // A note is "<why kept> (...): <first problem>" ("soak (seed 0x...): ...").
    let mut kinds: Vec<String> = known
        .iter()
        .map(|k| {
            kind(
                k.note
                    .split_once("): ")
                    .or(k.note.split_once(": "))
                    .map_or("", |(_, p)| p),
            )
        })
        .collect();
    let mut added = 0;
    for (c, first_problem) in failures {
        let k = kind(first_problem);
        if known.iter().any(|k| same_input(k, c)) || kinds.contains(&k) {
            continue;
        }
        kinds.push(k);
        let mut c = c.clone();
        c.note = format!("soak (seed {seed:#x}): {first_problem}");
        let mut v = c.to_json(0);
        v.as_object_mut().expect("object").remove("id");
        text.push_str(&serde_json::to_string(&v).expect("json"));
        text.push('\n');
        added += 1;
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!(
        "reference: {added} new regression case(s) appended to {}",
        path.display()
    );
}

/// The kind of a difference, coarse on purpose (one regression case per kind): its first
/// problem up to the first quoted or listed value, without numbers, and with a header name in
/// front of ": reference" or ": the extension's field names" replaced by `<field>`
/// ("Subject: reference \"...\"" -> "<field>: reference"; "the extension delivered 2 \"Cc\"
/// field(s) ..." -> "the extension delivered").
fn kind(problem: &str) -> String {
    let generic = [": reference", ": the extension's field names"]
        .iter()
        .filter_map(|m| problem.find(m))
        .min()
        .filter(|&i| !problem[..i].contains(' '))
        .map_or(problem.to_string(), |i| format!("<field>{}", &problem[i..]));
    let cut = generic
        .char_indices()
        .skip(1)
        .find(|(_, c)| matches!(c, '"' | '[' | '(' | '{' | '<'))
        .map_or(generic.len(), |(i, _)| i);
    generic[..cut]
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn same_input(a: &Case, b: &Case) -> bool {
    Case {
        note: String::new(),
        ..a.clone()
    } == Case {
        note: String::new(),
        ..b.clone()
    }
}

/// One round: every case both ways, compared. Prints the report; returns the passed and
/// failed counts and the failed cases with their first problem.
fn run_round(
    all: &[(String, &Case)],
    tools: &Tools,
    lifetime: Duration,
) -> (usize, usize, Vec<(Case, String)>) {
    let t0 = Instant::now();
    let work = common::TempDir::new("reference");
    let (eight, seven): (Vec<_>, Vec<_>) = all
        .iter()
        .enumerate()
        .map(|(id, (_, c))| (id, *c))
        .partition(|(_, c)| !c.seven_bit);
    let work = work.path();
    let chain = |cases: Vec<(usize, &Case)>, seven_bit: bool| -> chain::Results {
        if cases.is_empty() {
            return Default::default();
        }
        Chain::start(seven_bit, lifetime + Duration::from_secs(120)).run(&cases, tools, work)
    };
    let results = std::thread::scope(|s| {
        let a = s.spawn(|| chain(eight, false));
        let b = s.spawn(|| chain(seven, true));
        let mut r = a.join().expect("8-bit chain");
        r.extend(b.join().expect("7-bit chain"));
        r
    });

    let mut tallies = [Tally::new("mail()"), Tally::new("smtp_send()")];
    let mut report = String::new();
    let mut failures = Vec::new();
    for (id, (label, case)) in all.iter().enumerate() {
        let sides = &results[&id];
        let mut problems: Vec<(&str, String)> = Vec::new();
        for ((tally, side), mail_api) in tallies
            .iter_mut()
            .zip([&sides.mail, &sides.smtp_send])
            .zip([true, false])
        {
            if side.outcome.skipped {
                tally.skipped += 1;
                continue;
            }
            match compare(case, &sides.reference, side, mail_api) {
                Verdict::Same => tally.same += 1,
                Verdict::NeitherDelivered(why) => {
                    if std::env::var_os("REFERENCE_VERBOSE").is_some() {
                        let php = case.php();
                        println!(
                            "neither ({}): {label}: {why}\n    {}",
                            tally.way,
                            &php[..floor(&php, 400.min(php.len()))]
                        );
                    }
                    tally.neither.push(why)
                }
                Verdict::Refused(w) => tally.refused.push(w),
                Verdict::NoReference(w) => tally.no_reference.push(w),
                Verdict::Different(ps) => {
                    tally.different += 1;
                    problems.extend(ps.into_iter().map(|p| (tally.way, p)));
                }
            }
        }
        if problems.is_empty() {
            continue;
        }
        let _ = writeln!(report, "\n--- DIFFERENT: {label}");
        if !case.note.is_empty() {
            let _ = writeln!(report, "    note: {}", case.note);
        }
        let mut php = case.php();
        if php.len() > 3000 {
            php = format!(
                "{}... ({} characters)",
                &php[..floor(&php, 3000)],
                php.len()
            );
        }
        let _ = writeln!(report, "    {php}");
        for (way, p) in &problems {
            let _ = writeln!(report, "    - {way}: {p}");
        }
        failures.push(((*case).clone(), problems[0].1.clone()));
    }
    // The refusals, grouped by message: allowed, but worth reading.
    let group = |texts: &[String]| {
        let mut by_text: std::collections::BTreeMap<String, usize> = Default::default();
        for w in texts {
            let key: String = w.chars().take(200).collect();
            *by_text.entry(key).or_default() += 1;
        }
        by_text
    };
    println!(
        "reference: {} cases ({} to a 7-bit server) in {:.1} s, {} different",
        all.len(),
        all.iter().filter(|(_, c)| c.seven_bit).count(),
        t0.elapsed().as_secs_f64(),
        failures.len()
    );
    for t in &tallies {
        println!(
            "  {}: {} delivered alike, {} delivered by neither, {} refused by the extension \
             only, {} without a reference (sendmail could not take them), {} different, {} not \
             sent this way",
            t.way,
            t.same,
            t.neither.len(),
            t.refused.len(),
            t.no_reference.len(),
            t.different,
            t.skipped
        );
    }
    for t in &tallies {
        if std::env::var_os("REFERENCE_VERBOSE").is_some() {
            for (w, n) in group(&t.neither) {
                println!("  {} neither {n}x: {w}", t.way);
            }
        }
        for (w, n) in group(&t.no_reference) {
            println!("  {} no reference {n}x: {w}", t.way);
        }
        for (w, n) in group(&t.refused) {
            println!("  {} refused by the extension only {n}x: {w}", t.way);
        }
    }
    print!("{report}");
    let failed = failures.len();
    (all.len() - failed, failed, failures)
}

/// What one way of the extension (mail() or smtp_send()) did over a round.
struct Tally {
    way: &'static str,
    same: usize,
    neither: Vec<String>,
    refused: Vec<String>,
    no_reference: Vec<String>,
    different: usize,
    skipped: usize,
}

impl Tally {
    fn new(way: &'static str) -> Tally {
        Tally {
            way,
            same: 0,
            neither: Vec::new(),
            refused: Vec::new(),
            no_reference: Vec::new(),
            different: 0,
            skipped: 0,
        }
    }
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
