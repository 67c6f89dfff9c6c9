//! The bottom floor of the network: time limits (`Budget`, `Deadline`, `Limit`), name
//! resolution with a deadline, TCP connect, the plain-or-TLS `Stream`, and one failure type
//! for all of them (`NetError`). It knows nothing of SMTP or OAuth: the SMTP transport and the
//! OAuth token client both build on it, and it imports nothing of the project but `sys` and
//! `tls` (both leaves).

mod connect;
mod dns;
mod failure;
mod stream;

use std::io;
use std::time::{Duration, Instant};

pub use connect::connect;
pub use dns::{lookup_within, resolve, system_lookup, LookupFailed};
pub use failure::NetError;
pub use stream::{Idle, Stream};

/// Which time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `smtp.timeout`: the longest wait for one step.
    Step(Duration),
    /// `smtp.max_time`: the whole call.
    Total(Duration),
}

/// RFC 5321 4.5.3.2.6: a client should wait 10 minutes for the reply to the end of data. Used
/// only when `smtp.max_time` is 0 (no cap).
const FINAL_REPLY_WITHOUT_CAP: Duration = Duration::from_secs(600);

/// The time limits of one call: `step` for each wait (smtp.timeout), `end` for the whole call
/// (smtp.max_time).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    step: Duration,
    end: Option<(Instant, Duration)>,
}

impl Budget {
    pub fn new(step: Duration, total: Option<Duration>) -> Budget {
        Budget {
            step,
            end: total.map(|t| (Instant::now() + t, t)),
        }
    }

    /// The deadline of a step that starts now.
    pub fn step(&self) -> Deadline {
        self.within(self.step)
    }

    /// The deadline for the reply to the end of the message: all that is left of the call,
    /// since giving up there leaves the outcome unknown.
    pub fn final_reply(&self) -> Deadline {
        match self.end {
            Some((at, total)) => Deadline {
                at,
                limit: Limit::Total(total),
            },
            None => self.within(FINAL_REPLY_WITHOUT_CAP.max(self.step)),
        }
    }

    /// The same end, with a shorter step (checking a kept connection).
    pub fn with_step(&self, step: Duration) -> Budget {
        Budget {
            step: step.min(self.step),
            end: self.end,
        }
    }

    pub fn step_length(&self) -> Duration {
        self.step
    }

    /// When the whole call must be over (`None`: no cap).
    pub fn end(&self) -> Option<Instant> {
        self.end.map(|(at, _)| at)
    }

    /// What is left of the whole call (`None`: no cap), and the whole call's length.
    pub fn left(&self) -> Option<(Duration, Duration)> {
        self.end
            .map(|(at, total)| (at.saturating_duration_since(Instant::now()), total))
    }

    /// Whether the whole call's time is up.
    pub fn exhausted(&self) -> bool {
        self.end.is_some_and(|(at, _)| Instant::now() >= at)
    }

    fn within(&self, step: Duration) -> Deadline {
        let step_end = Instant::now() + step;
        match self.end {
            Some((at, total)) if at < step_end => Deadline {
                at,
                limit: Limit::Total(total),
            },
            _ => Deadline {
                at: step_end,
                limit: Limit::Step(step),
            },
        }
    }
}

/// The moment a wait must end, and which limit set it.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    limit: Limit,
}

impl Deadline {
    /// Time left, or `None` when the deadline has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .checked_duration_since(Instant::now())
            .filter(|d| *d >= Duration::from_millis(1))
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }
}

impl Deadline {
    /// The moment itself.
    pub fn at(&self) -> Instant {
        self.at
    }
}

pub(crate) fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "deadline reached")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_never_outlasts_the_call() {
        let b = Budget::new(Duration::from_secs(10), Some(Duration::from_secs(1)));
        let d = b.step();
        assert_eq!(d.limit(), Limit::Total(Duration::from_secs(1)));
        assert!(d.remaining().unwrap() <= Duration::from_secs(1));
        let b = Budget::new(Duration::from_secs(1), Some(Duration::from_secs(30)));
        assert_eq!(b.step().limit(), Limit::Step(Duration::from_secs(1)));
        assert_eq!(
            b.final_reply().limit(),
            Limit::Total(Duration::from_secs(30))
        );
    }

    #[test]
    fn without_a_cap_the_final_reply_gets_rfc_5321s_ten_minutes() {
        let b = Budget::new(Duration::from_secs(5), None);
        assert_eq!(
            b.final_reply().limit(),
            Limit::Step(FINAL_REPLY_WITHOUT_CAP)
        );
        assert!(!b.exhausted());
    }

    #[test]
    fn shorter_step_for_checks() {
        let b = Budget::new(Duration::from_secs(10), Some(Duration::from_secs(30)));
        assert_eq!(
            b.with_step(Duration::from_secs(2)).step().limit(),
            Limit::Step(Duration::from_secs(2))
        );
    }
}
