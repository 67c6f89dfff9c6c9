//! One server: a kept connection when there is a healthy one, else a new one (in a free
//! `smtp.max_connections` slot), and which failures may be tried again without duplicating.
//!
//! A kept connection is reused only when it is cheap and safe: nothing arrived on it while it
//! was idle (checked without blocking), and, when it has been idle a while, it answers NOOP
//! within a short time of its own. Otherwise a new connection is opened, with the full step
//! timeout, within what is left of the call's time.

use std::time::{Duration, Instant};

use super::rate;
use super::slots::{self, Slot};
use super::{count, learn_session_limit, put_back, remembered, with_pool, Key};
use crate::config::Settings;
use crate::error::{Error, Limit, Outcome, Result, Stage};
use crate::message::Prepared;
use crate::transport::{Budget, Connection, Facts, Idle};

/// The longest a kept connection's NOOP may take before we give up on it and connect anew.
const NOOP_LIMIT: Duration = Duration::from_secs(2);

/// Whether a kept connection can take the next message: nothing arrived while it was idle,
/// and, after `ping_after`, it answers NOOP within its own short limit.
fn still_good(conn: &mut Connection, key: &Key, s: &Settings, budget: &Budget) -> bool {
    let recent = conn.last_used.elapsed() <= s.pool.ping_after;
    match conn.idle_state() {
        Idle::Quiet => {}
        Idle::Input => {
            // Mostly an idle timeout's 421 or 451 (Postfix, SES): a limit of time, not of
            // messages, so nothing is learnt from it.
            log::debug!("the server sent something on the kept connection while it was idle; opening a new one");
            return false;
        }
        Idle::Closed => {
            log::debug!("the server closed the kept connection; opening a new one");
            ended_by_server(conn, key, recent);
            return false;
        }
    }
    if recent {
        return true;
    }
    match conn.noop(&budget.with_step(NOOP_LIMIT)) {
        Ok(()) => true,
        Err(e) => {
            log::debug!("the kept connection failed its check ({e}); opening a new one");
            false
        }
    }
}

/// The server closed a kept session without a word while it was idle. Soon after its last
/// message, that is most likely its limit of messages a session (as Amazon SES ends one after
/// ~350); after a long idle, an idle timeout, which says nothing of a limit.
fn ended_by_server(conn: &Connection, key: &Key, recent: bool) {
    if recent {
        learn_session_limit(key, conn.messages);
    }
}

/// A failure on a reused connection that happened before the server could have accepted the
/// message: retrying on a new connection cannot duplicate it. A server that stopped reading the
/// body in time is not a dead kept connection: the same upload would only stall again.
fn retry_is_safe(e: &Error, sent_before: u32, conn: &Connection) -> bool {
    let connection_failed = match e {
        // A provider's quota said with a 421 (too fast, too much today) is no dead connection:
        // a new one would only be refused again.
        Error::Rejected { reply, .. } => reply.code == 421 && crate::error::quota(reply).is_none(),
        Error::Timeout {
            stage: Stage::Message,
            ..
        } => false,
        Error::Timeout { .. }
        | Error::Closed { .. }
        | Error::Io { .. }
        | Error::Protocol { .. } => true,
        _ => false,
    };
    conn.messages == sent_before
        && e.outcome() == Outcome::NotSent
        && !conn.is_reusable()
        && connection_failed
        && matches!(
            e.stage(),
            Some(Stage::MailFrom | Stage::RcptTo | Stage::Data | Stage::Message | Stage::Reset)
        )
}

/// One server: a kept connection when there is a healthy one, else a new one.
pub(super) fn send_to(s: &Settings, msg: &Prepared, budget: &Budget) -> Result<()> {
    let key = Key::of(s);
    // The slot of a kept connection that turned out dead goes to its replacement.
    let mut spare: Option<Slot> = None;
    if s.pool.enabled {
        if let Some(kept) = with_pool(|p| p.cache.take(&key)) {
            let (mut conn, slot) = (kept.conn, kept.slot);
            conn.apply(s);
            conn.facts = remembered(&key);
            if still_good(&mut conn, &key, s, budget) {
                let before = (conn.messages, conn.facts);
                match rate::send(&mut conn, s, msg, budget) {
                    Ok(()) => {
                        count(|st| st.connections_reused += 1);
                        put_back(key, conn, slot, s);
                        return Ok(());
                    }
                    Err(e) if retry_is_safe(&e, before.0, &conn) => {
                        log::debug!("the kept connection failed before the message could have been accepted ({e}); retrying on a new one");
                        if e.stage() == Some(Stage::MailFrom) {
                            // The server ended the session at the start of a transaction.
                            learn_session_limit(&key, before.0);
                        }
                        count(|st| st.retries += 1);
                        drop(conn);
                        spare = slot;
                    }
                    Err(e) if refused_bdat(&e, before, &conn) => {
                        count(|st| st.retries += 1);
                        put_back(key.clone(), conn, slot, s);
                    }
                    Err(e) => {
                        put_back(key, conn, slot, s);
                        return Err(e);
                    }
                }
            } else {
                drop(conn);
                spare = slot;
            }
        }
    }
    let mut result = on_a_new_connection(s, &key, msg, budget, spare.take());
    if let Err((e, true)) = &result {
        log::debug!("the server refused BDAT ({e}); sending the message again with DATA");
        count(|st| st.retries += 1);
        result = on_a_new_connection(s, &key, msg, budget, None);
    }
    result.map_err(|(e, _)| e)
}

/// Opens a connection (in a free `smtp.max_connections` slot, or in `slot`) and sends; the
/// error says, with `true`, that the server refused BDAT itself before the message could be
/// accepted (then DATA may go on another connection).
fn on_a_new_connection(
    s: &Settings,
    key: &Key,
    msg: &Prepared,
    budget: &Budget,
    slot: Option<Slot>,
) -> std::result::Result<(), (Error, bool)> {
    if budget.exhausted() {
        return Err((
            Error::Timeout {
                host: s.host.clone(),
                port: s.port,
                stage: Stage::Connect,
                limit: Limit::Total(s.max_time.unwrap_or_default()),
            },
            false,
        ));
    }
    let slot = match (s.max_connections, slot) {
        (0, _) => None,
        (_, Some(slot)) => Some(slot),
        (max, None) => slots::acquire(s, max, budget).map_err(|e| (e, false))?,
    };
    let mut conn = Connection::open(s, budget).map_err(|e| (e, false))?;
    count(|st| st.connections_opened += 1);
    conn.facts = remembered(key);
    let before = (conn.messages, conn.facts);
    let result = rate::send(&mut conn, s, msg, budget);
    conn.last_used = Instant::now();
    let bdat = matches!(&result, Err(e) if refused_bdat(e, before, &conn));
    put_back(key.clone(), conn, slot, s);
    result.map_err(|e| (e, bdat))
}

/// The server refused BDAT itself during this send (it learnt `no_chunking` just now) and
/// nothing went out before: the message may go again with DATA on a new connection.
fn refused_bdat(e: &Error, before: (u32, Facts), conn: &Connection) -> bool {
    !before.1.no_chunking
        && conn.facts.no_chunking
        && conn.messages == before.0
        && e.outcome() == Outcome::NotSent
}
