//! The servers of `smtp.host` in turn, and "too many connections": this process's own idle
//! connections to that server are closed first; then the round is tried again after a short,
//! growing, jittered pause, within the call's time.

use std::time::{Duration, Instant};

use super::{attempt, close_idle_to, with_pool};
use crate::config::Settings;
use crate::error::{Error, Limit, Reply, Result};
use crate::message::Prepared;
use crate::transport::Budget;

/// The first wait before trying again after "too many connections"; it doubles each time.
const LIMIT_BACKOFF: Duration = Duration::from_millis(50);

/// Tries the servers in order; a server that is down, or that says this machine has too many
/// connections, passes the message to the next. When every server refused for too many
/// connections, waits (50 ms, doubling, jittered) and goes round again within the call's time.
pub(super) fn send_anywhere(s: &Settings, msg: &Prepared, budget: &Budget) -> Result<()> {
    let started = Instant::now();
    // Without smtp.max_time, waiting for a free connection is bounded by smtp.timeout.
    let window = s.max_time.unwrap_or(s.timeout);
    let mut wait = LIMIT_BACKOFF;
    let mut limits = LimitRefusals::default();
    loop {
        let mut last: Option<Error> = None;
        let mut all_limits = true;
        for (i, server) in s.servers.iter().enumerate() {
            // One server (the common case): the settings as they are, not a copy per mail.
            let owned;
            let on = if s.servers.len() == 1 {
                s
            } else {
                owned = s.on(server);
                &owned
            };
            let mut result = attempt::send_to(on, msg, budget);
            if let Err(e) = &result {
                // Our own idle connections count against the server's limit too: give them
                // up, then try again at once.
                if e.is_connection_limit() && !budget.exhausted() {
                    let closed = close_idle_to(&on.host, on.port);
                    if closed > 0 {
                        log::debug!(
                            "{} refused a connection for too many ({e}); closed {closed} idle \
                             connections of this process to it and trying again",
                            on.endpoint()
                        );
                        limits.saw(e, &on.host);
                        result = attempt::send_to(on, msg, budget);
                    }
                }
            }
            match result {
                Ok(()) => {
                    with_pool(|p| match &p.last_server {
                        Some((host, port)) if *port == on.port && *host == on.host => {}
                        _ => p.last_server = Some((on.host.clone(), on.port)),
                    });
                    return Ok(());
                }
                Err(e) if e.fails_over() && !budget.exhausted() => {
                    if e.is_connection_limit() {
                        limits.saw(&e, &on.host);
                    } else {
                        all_limits = false;
                    }
                    if i + 1 < s.servers.len() {
                        log::debug!(
                            "{} failed ({e}); trying {}",
                            on.endpoint(),
                            s.servers[i + 1].host
                        );
                    }
                    last = Some(e);
                }
                Err(e) => {
                    limits.saw(&e, &on.host);
                    return Err(limits.explain(e));
                }
            }
        }
        let e = last.expect("at least one server");
        let pause = jitter(wait);
        if !all_limits || started.elapsed() + pause >= window || budget.exhausted() {
            return Err(limits.explain(e));
        }
        std::thread::sleep(pause);
        wait *= 2;
    }
}

/// The "too many connections" refusals of one call: how many, and the last one.
#[derive(Default)]
struct LimitRefusals {
    tries: u32,
    last: Option<(Reply, String)>,
}

impl LimitRefusals {
    fn saw(&mut self, e: &Error, host: &str) {
        if let Error::Rejected { reply, .. } = e {
            if e.is_connection_limit() {
                self.tries += 1;
                self.last = Some((reply.clone(), host.to_string()));
            }
        }
    }

    /// The error the call ends with. After connection-limit refusals, a failure that only
    /// says the call's time ran out (a connect or a greeting cut short by smtp.max_time) is
    /// reported as the limit it was waiting out, with the server's words and the fixes.
    fn explain(self, e: Error) -> Error {
        let ran_out = matches!(
            e,
            Error::Timeout {
                limit: Limit::Total(_),
                ..
            }
        );
        match self.last {
            Some((reply, host)) if e.is_connection_limit() || ran_out => Error::ConnectionLimit {
                reply,
                host,
                tries: self.tries,
            },
            _ => e,
        }
    }
}

/// Between half and one and a half times `d`, so that workers refused together do not all come
/// back together.
fn jitter(d: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte);
    d / 2 + d * u32::from(byte[0]) / 255
}
