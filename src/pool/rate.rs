//! `smtp.max_rate`: at most N messages a period to one server and account from this machine,
//! across all PHP processes, spread evenly: the turns of a key are one schedule (a GCRA, "the
//! next free time"), each turn at least `interval` after the one before, so there is never a
//! burst of N followed by a pause (which a server counting over a sliding window would see as
//! more than N).
//!
//! The schedule is one small file per server and account (`<key>.rate`, next to the
//! `smtp.max_connections` slot files, in the same directory with the same rules): one line
//! with the next free time on the machine's monotonic clock and the boot it belongs to. A
//! process takes its turn under an exclusive `flock()` held only to read and write that line
//! (never while it waits or talks to a server), then sleeps until the turn. A worker that
//! crashes loses at most its own booked turn (a gap), and the kernel drops its lock.
//!
//! A turn is taken once per message, on a connection ready to send, right before MAIL FROM:
//! the spacing the server sees is then the spacing of the turns, not blurred by connecting,
//! TLS or fetching a token. A connection that fails before that takes no turn; a send that
//! fails before the server could count a message (nothing written, or the kept connection found
//! closed at MAIL) gives its turn back when nobody booked one after it.
//!
//! While it waits, the connection stays open and keeps its `smtp.max_connections` slot: the
//! wait is bounded by the call's time, and the processes waiting for that slot would wait for
//! the same schedule anyway. A server that closes it meanwhile (an idle limit shorter than the
//! wait) is met at MAIL FROM: the turn goes back and the pool retries on a new connection.
//!
//! The turns are spaced by the period plus a small slack (2 %, at least 100 ms) over N: a
//! message delayed a little on its way (a busy machine, the network) must not bring N + 1 into
//! one window of the server's.
//!
//! A problem with the directory or the file never fails a send, as for the slots: the mail goes
//! without the limit, and a warning (once per process) says why and what to do. A turn further
//! away than the call can wait fails at once, before anything is sent (`Error::RateBusy`).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use super::slots;
use crate::config::{Rate, Settings};
use crate::error::{Error, Result, Stage};
use crate::message::Prepared;
use crate::transport::{Budget, Connection};

/// The least slack a period gets (see the module doc).
const MIN_SLACK: Duration = Duration::from_millis(100);

/// The longest a process waits for the schedule's lock, held by others only to read and write
/// one line: longer means a stopped or hung process holds it.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// How often a process looks whether the lock came free.
const LOCK_POLL: Duration = Duration::from_millis(1);

/// A next free time further ahead than this is no real booking (the longest call waits a day).
const FAR: u64 = 2 * 86_400 * 1_000_000_000;

/// The spacing of turns: the period and its slack, shared out.
pub fn interval(rate: Rate) -> Duration {
    let slack = (rate.per / 50).max(MIN_SLACK);
    (rate.per + slack) / rate.count
}

/// A booked turn: when it is, and the schedule's next free time after it (nanoseconds of the
/// monotonic clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booking {
    pub at: u64,
    pub next: u64,
}

/// The turn a send asking at `now` gets, given the schedule's next free time; or, when that is
/// more than `max_wait` away, how far away it is (nothing booked).
pub fn book(
    next_free: Option<u64>,
    now: u64,
    interval: Duration,
    max_wait: Duration,
) -> std::result::Result<Booking, Duration> {
    let at = next_free.map_or(now, |t| t.max(now));
    let wait = Duration::from_nanos(at - now);
    if wait > max_wait {
        return Err(wait);
    }
    Ok(Booking {
        at,
        next: at.saturating_add(interval.as_nanos() as u64),
    })
}

/// The schedule's next free time after giving `b` back: only the last turn booked can be given
/// back (a later one was placed after it, and the spacing to that one must hold).
pub fn give_back(next_free: Option<u64>, b: &Booking) -> Option<u64> {
    (next_free == Some(b.next)).then_some(b.at)
}

/// This boot of the machine: the monotonic clock starts again at each boot, so a time written
/// before a reboot (a schedule in a directory that survives it) means nothing after.
static BOOT: LazyLock<String> = LazyLock::new(|| {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "-".into())
});

/// The schedule file's line.
pub fn encode(boot: &str, next: u64) -> String {
    format!("php-smtp-rate 1 {boot} {next}\n")
}

/// The next free time a schedule file holds: `None` when it is empty, of another boot, or not
/// ours to read (then the schedule starts afresh: at worst one turn comes early).
pub fn decode(text: &str, boot: &str, now: u64) -> Option<u64> {
    let line = text.lines().next()?;
    let mut words = line.split(' ');
    let ok = words.next() == Some("php-smtp-rate") && words.next() == Some("1");
    let (b, next) = (words.next()?, words.next()?.parse::<u64>().ok()?);
    (ok && b == boot && words.next().is_none() && next <= now.saturating_add(FAR)).then_some(next)
}

/// Why a turn was not booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The first free turn is this far away, more than the call could wait.
    Busy(Duration),
    /// The schedule cannot be used: what is wrong.
    Unusable(String),
}

/// The schedule of one server and account: its file.
#[derive(Debug, Clone)]
pub struct Schedule {
    path: PathBuf,
}

impl Schedule {
    /// The schedule `key` in `dir` (a directory checked as the slot directory is).
    pub fn at(dir: &Path, key: &str) -> Schedule {
        Schedule {
            path: dir.join(format!("{key}.rate")),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Books the first free turn within `max_wait`, spaced `interval` from the one before.
    pub fn book(
        &self,
        interval: Duration,
        max_wait: Duration,
    ) -> std::result::Result<Booking, Refused> {
        self.locked(
            |next_free, now| match book(next_free, now, interval, max_wait) {
                Ok(b) => (Ok(b), Some(b.next)),
                Err(wait) => (Err(Refused::Busy(wait)), None),
            },
        )
        .map_err(Refused::Unusable)?
    }

    /// Gives `b` back if it is still the last turn booked; whether it was.
    pub fn give_back(&self, b: &Booking) -> std::result::Result<bool, String> {
        self.locked(|next_free, _| {
            let after = give_back(next_free, b);
            (after.is_some(), after)
        })
    }

    /// Runs `f` on the next free time (and the clock's now) under the file's lock, and writes
    /// the next free time it returns. The lock is held for this alone: no wait, no network.
    fn locked<T>(
        &self,
        f: impl FnOnce(Option<u64>, u64) -> (T, Option<u64>),
    ) -> std::result::Result<T, String> {
        let shown = self.path.display();
        let held = slots::open_state_file(&self.path)
            .map_err(|e| format!("the schedule file {shown} cannot be opened ({e})"))?;
        let file = held.file();
        let until = Instant::now() + LOCK_WAIT;
        while !crate::sys::try_flock(file, true) {
            if Instant::now() >= until {
                return Err(format!(
                    "the schedule file {shown} stayed locked by another process for {} s (a \
                     stopped or hung PHP process holds it)",
                    LOCK_WAIT.as_secs()
                ));
            }
            std::thread::sleep(LOCK_POLL);
        }
        let mut text = String::new();
        // A line of ~80 bytes: more is not ours, and is not read.
        let read = file.take(256).read_to_string(&mut text);
        let now = crate::sys::monotonic_ns();
        let next_free = match read {
            Ok(_) => decode(&text, &BOOT, now),
            Err(_) => None,
        };
        let (out, write) = f(next_free, now);
        if let Some(next) = write {
            store(file, &encode(&BOOT, next))
                .map_err(|e| format!("the schedule file {shown} cannot be written ({e})"))?;
        }
        // Closing the file lets the lock go.
        drop(held);
        Ok(out)
    }
}

/// One write of the whole line at the start: a process that dies around it leaves the old
/// line or the new one (a longer old line's tail is cut after).
fn store(file: &File, line: &str) -> io::Result<()> {
    file.write_all_at(line.as_bytes(), 0)?;
    file.set_len(line.len() as u64)
}

/// A turn taken for a message being sent.
#[derive(Debug)]
struct Turn {
    schedule: Schedule,
    booking: Booking,
}

static WARNED: AtomicBool = AtomicBool::new(false);

fn warn_unusable(s: &Settings, why: &str) {
    slots::warn_unkept(&WARNED, "smtp.max_rate", why, "the limit", s);
}

/// This message's turn: booked, then waited for (no lock held). `None` when there is no
/// limit, or when the schedule cannot be used (the send goes on without it, a warning said
/// why). Fails, booking nothing, when the first free turn is further away than the call can
/// wait: all of `smtp.max_time` that is left but the time kept for sending the message (the
/// rule of `transport::txn`), or one `smtp.timeout` without `smtp.max_time`.
fn take(s: &Settings, rate: Rate, budget: &Budget) -> Result<Option<Turn>> {
    let unusable = |why: String| {
        warn_unusable(s, &why);
        Ok(None)
    };
    let dir = match slots::dir(s) {
        Ok(d) => d,
        Err(why) => return unusable(format!("the slot directory {why}")),
    };
    let schedule = Schedule::at(&dir.path, &slots::key_of(s));
    let (could_wait, setting) = match budget.left() {
        Some((left, total)) => (
            left.saturating_sub(budget.step_length().min(total / 3)),
            "smtp.max_time",
        ),
        None => (budget.step_length(), "smtp.timeout"),
    };
    let every = interval(rate);
    let booking = match schedule.book(every, could_wait) {
        Ok(b) => b,
        Err(Refused::Busy(turn_in)) => {
            return Err(Error::RateBusy {
                host: s.host.clone(),
                rate: rate.to_string(),
                interval: every,
                turn_in,
                could_wait,
                setting,
            })
        }
        Err(Refused::Unusable(why)) => return unusable(why),
    };
    let now = crate::sys::monotonic_ns();
    if booking.at > now {
        let wait = Duration::from_nanos(booking.at - now);
        log::debug!(
            "waiting {:.3} s for the next smtp.max_rate ({rate}) turn to {}",
            wait.as_secs_f64(),
            s.host
        );
        std::thread::sleep(wait);
    }
    Ok(Some(Turn { schedule, booking }))
}

/// The server cannot have counted the message: nothing of it was written (refused here, before
/// MAIL FROM), or the connection was found gone at MAIL FROM.
fn never_counted(e: &Error) -> bool {
    matches!(
        e,
        Error::TooBig { .. }
            | Error::NotOffered { .. }
            | Error::TlsRequired { .. }
            | Error::Message(_)
            | Error::Closed {
                stage: Stage::MailFrom,
                ..
            }
            | Error::Io {
                stage: Stage::MailFrom,
                ..
            }
    )
}

/// Sends `msg` on `conn` in its `smtp.max_rate` turn (at once without a limit).
pub(super) fn send(
    conn: &mut Connection,
    s: &Settings,
    msg: &Prepared,
    budget: &Budget,
) -> Result<()> {
    let Some(rate) = s.max_rate else {
        return conn.send(msg, budget);
    };
    let turn = take(s, rate, budget)?;
    let result = conn.send(msg, budget);
    if let (Some(turn), Err(e)) = (turn, &result) {
        if never_counted(e) {
            match turn.schedule.give_back(&turn.booking) {
                Ok(true) => log::debug!("gave the smtp.max_rate turn back: {e}"),
                Ok(false) => {}
                Err(why) => log::debug!("could not give the smtp.max_rate turn back: {why}"),
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn rate(count: u32, secs: u64) -> Rate {
        Rate {
            count,
            per: Duration::from_secs(secs),
        }
    }

    #[test]
    fn turns_are_the_period_and_its_slack_shared_out() {
        // 2 % of a minute; 100 ms for a second.
        assert_eq!(interval(rate(30, 60)), Duration::from_millis(2040));
        assert_eq!(interval(rate(5, 1)), Duration::from_millis(220));
        assert_eq!(interval(rate(1, 1)), Duration::from_millis(1100));
        assert_eq!(interval(rate(1000, 3600)), Duration::from_micros(3_672_000));
    }

    #[test]
    fn the_first_send_goes_at_once_and_the_next_ones_are_spaced() {
        let every = Duration::from_millis(200);
        let wait = Duration::from_secs(10);
        let a = book(None, 1000 * MS, every, wait).unwrap();
        assert_eq!(
            a,
            Booking {
                at: 1000 * MS,
                next: 1200 * MS
            }
        );
        // Asked together: one after the other, no burst.
        let b = book(Some(a.next), 1000 * MS, every, wait).unwrap();
        let c = book(Some(b.next), 1001 * MS, every, wait).unwrap();
        assert_eq!((b.at, c.at), (1200 * MS, 1400 * MS));
        // After a quiet spell nothing is saved up: the schedule starts at now.
        let d = book(Some(c.next), 5000 * MS, every, wait).unwrap();
        assert_eq!(d.at, 5000 * MS);
    }

    #[test]
    fn a_turn_further_than_the_call_can_wait_is_not_booked() {
        let every = Duration::from_millis(200);
        let next_free = Some(3000 * MS);
        assert_eq!(
            book(next_free, 1000 * MS, every, Duration::from_millis(1999)),
            Err(Duration::from_secs(2))
        );
        assert!(book(next_free, 1000 * MS, every, Duration::from_secs(2)).is_ok());
    }

    #[test]
    fn only_the_last_turn_can_be_given_back() {
        let every = Duration::from_millis(200);
        let wait = Duration::from_secs(10);
        let a = book(None, 0, every, wait).unwrap();
        assert_eq!(give_back(Some(a.next), &a), Some(a.at));
        let b = book(Some(a.next), 0, every, wait).unwrap();
        assert_eq!(give_back(Some(b.next), &a), None);
    }

    /// Many senders asking at random moments (bursts and quiet spells), each waiting as long
    /// as it takes: in no window of the period are there more turns than the rate.
    #[test]
    fn no_window_of_the_period_holds_more_than_the_rate() {
        for (count, secs) in [(5, 1), (30, 60), (1, 1), (14, 1), (3, 3600)] {
            let r = rate(count, secs);
            let period = r.per.as_nanos() as u64;
            let mut seed = 0x2545_f491_4f6c_dd1d_u64 ^ u64::from(count);
            let mut rnd = move |n: u64| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % n
            };
            let (mut next_free, mut now, mut turns) = (None, 0u64, Vec::new());
            for _ in 0..2000 {
                now += match rnd(4) {
                    0 => 0,
                    1 => rnd(period / u64::from(count) + 1),
                    _ => rnd(period * 2),
                };
                let b = book(next_free, now, interval(r), Duration::MAX).unwrap();
                next_free = Some(b.next);
                turns.push(b.at);
            }
            turns.sort_unstable();
            let mut first = 0;
            for last in 0..turns.len() {
                while turns[last] - turns[first] >= period {
                    first += 1;
                }
                assert!(
                    last - first < count as usize,
                    "{r}: {} in a window",
                    last - first + 1
                );
            }
        }
    }

    #[test]
    fn the_schedule_line_belongs_to_one_boot() {
        let now = 5_000 * MS;
        let line = encode("b1", 7 * MS);
        assert_eq!(decode(&line, "b1", now), Some(7 * MS));
        assert_eq!(decode(&line, "b2", now), None, "another boot");
        for bad in [
            "",
            "garbage",
            "php-smtp-rate 1 b1",
            "php-smtp-rate 1 b1 x",
            "php-smtp-rate 2 b1 7",
            "php-smtp-rate 1 b1 7 8",
            "php-smtp-rate 1 b1 -7",
        ] {
            assert_eq!(decode(bad, "b1", now), None, "{bad:?}");
        }
        // A time days ahead is no booking of ours.
        assert_eq!(decode(&encode("b1", now + FAR + 1), "b1", now), None);
        // What follows the first line (a longer old line cut short) is not read.
        assert_eq!(decode("php-smtp-rate 1 b1 9\n123", "b1", now), Some(9));
    }
}
