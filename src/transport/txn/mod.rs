//! One message over an open connection: recipients in as many transactions as the server's
//! recipient limit needs, each one an envelope (`envelope`) and a body (`body`: DATA with a
//! final dot, or one `BDAT <n> LAST` chunk when the server offers CHUNKING).
//!
//! What each failure means for the message:
//! - refused before the body, or the connection failed before the end of the body was written
//!   (a write that fails part-way leaves the end of data unsent): not sent;
//! - the body written, no final reply: unknown (never retried);
//! - an earlier transaction of the same send accepted: partial.
//!
//! A refused recipient fails the whole transaction, so a message never goes to some of its
//! recipients silently. Only "too many recipients" (452 4.5.3, or 452 without an enhanced
//! code) moves the rest to a further transaction.

mod body;
mod envelope;
mod needs;

use std::borrow::Cow;
use std::time::Instant;

pub use body::dot_stuff;
pub use envelope::RCPT_WINDOW;

use super::{Budget, Connection};
use crate::error::{Error, Reply, Result, Stage};
use crate::message::Prepared;

/// The recipients of one transaction that the server took, and those it had no room for.
#[derive(Debug, Default)]
struct Accepted {
    accepted: Vec<String>,
    deferred: Vec<String>,
}

/// How the message goes after the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// DATA, the dot-stuffed message and a final dot.
    Data,
    /// One `BDAT <n> LAST` chunk: the exact bytes, no dot-stuffing (RFC 3030).
    Bdat,
}

impl Connection {
    /// Sends one message. On failure the error says what became of it (see the module doc).
    pub fn send(&mut self, msg: &Prepared, budget: &Budget) -> Result<()> {
        self.check_needs(msg)?;
        let converted = self.for_this_server(msg)?;
        let msg: &Prepared = &converted;
        if let Some(max) = self.caps.size.filter(|m| *m > 0) {
            if msg.data.len() as u64 > max {
                return Err(Error::TooBig {
                    host: self.host.clone(),
                    size: msg.data.len() as u64,
                    max,
                });
            }
        }
        let mut delivered: Vec<String> = Vec::new();
        let mut pending: Vec<String> = msg.rcpts.clone();
        while !pending.is_empty() {
            let take = self
                .facts
                .rcpt_limit
                .map_or(pending.len(), |limit| limit.clamp(1, pending.len()));
            let rest = pending.split_off(take);
            let batch = pending;
            match self.transaction(msg, &batch, budget) {
                Ok(t) => {
                    if !t.deferred.is_empty() {
                        log::debug!(
                            "{} takes {} recipients per message; the other {} go in further \
                             transactions",
                            self.host,
                            t.accepted.len(),
                            t.deferred.len() + rest.len()
                        );
                        self.facts.rcpt_limit = Some(t.accepted.len());
                    }
                    delivered.extend(t.accepted);
                    pending = t.deferred;
                    pending.extend(rest);
                }
                Err(Error::Unknown {
                    cause,
                    message_id,
                    unknown,
                    undelivered,
                    ..
                }) => {
                    let mut undelivered = undelivered;
                    undelivered.extend(rest);
                    return Err(Error::Unknown {
                        cause,
                        message_id,
                        delivered,
                        unknown,
                        undelivered,
                    });
                }
                Err(e) if delivered.is_empty() => return Err(e),
                Err(e) => {
                    let mut undelivered = batch;
                    undelivered.extend(rest);
                    return Err(Error::Partial {
                        cause: Box::new(e),
                        delivered,
                        undelivered,
                    });
                }
            }
        }
        log::debug!(
            "message {} accepted for {} recipient(s)",
            msg.message_id,
            delivered.len()
        );
        Ok(())
    }

    /// The message as it goes to this server: the place for a conversion that depends on what
    /// the server offers (an 8-bit message to quoted-printable for a server without 8BITMIME).
    fn for_this_server<'a>(&self, msg: &'a Prepared) -> Result<Cow<'a, Prepared>> {
        // No 8-bit data to a 7-bit server: re-encoded as Postfix does, or refused unsent.
        if self.caps.eight_bit_mime {
            Ok(Cow::Borrowed(msg))
        } else {
            msg.seven_bit()
        }
    }

    /// Whether this transaction goes with BDAT.
    fn body_kind(&self) -> Body {
        if self.caps.chunking && self.chunking && !self.facts.no_chunking {
            Body::Bdat
        } else {
            Body::Data
        }
    }

    fn transaction(
        &mut self,
        msg: &Prepared,
        batch: &[String],
        budget: &Budget,
    ) -> Result<Accepted> {
        self.in_step = false;
        // Checked before a transaction is opened too: no envelope for a body that cannot go.
        self.time_for_body(msg, budget)?;
        let kind = self.body_kind();
        if kind == Body::Bdat && batch.len() == 1 && self.caps.pipelining && self.facts.bdat_proven
        {
            return self.in_one_round_trip(msg, &batch[0], budget);
        }
        let started = Instant::now();
        let got = self.envelope(msg, batch, kind, budget)?;
        match kind {
            Body::Data => {
                self.wire(format_args!("C: <message, {} bytes>", msg.data.len()));
                self.write_body(&[], msg, Body::Data, &[], budget)?;
                let reply = self.final_reply(msg, &got, budget)?;
                self.finish(msg, reply, got)
            }
            Body::Bdat => {
                self.bdat_after_envelope(msg, started.elapsed(), budget)?;
                let reply = self.final_reply(msg, &got, budget)?;
                if !(200..300).contains(&reply.code) {
                    return Err(self.chunk_refused(msg, reply));
                }
                let got = self.finish(msg, reply, got)?;
                self.facts.bdat_proven = true;
                Ok(got)
            }
        }
    }

    /// The reply to the end of the body: it may take all that is left of the call's time, and
    /// without it the outcome is unknown.
    fn final_reply(&mut self, msg: &Prepared, got: &Accepted, budget: &Budget) -> Result<Reply> {
        self.read_reply(Stage::FinalReply, budget.final_reply())
            .map_err(|cause| unknown(msg, cause, got))
    }

    fn finish(&mut self, msg: &Prepared, reply: Reply, got: Accepted) -> Result<Accepted> {
        self.settle(&reply);
        if !(200..300).contains(&reply.code) {
            return Err(self.refused(Stage::FinalReply, reply, &msg.from, None));
        }
        self.messages += 1;
        self.last_used = Instant::now();
        Ok(got)
    }
}

/// The outcome when the body was written and no final reply came.
fn unknown(msg: &Prepared, cause: Error, got: &Accepted) -> Error {
    Error::Unknown {
        cause: Box::new(cause),
        message_id: msg.message_id.clone(),
        delivered: Vec::new(),
        unknown: got.accepted.clone(),
        undelivered: got.deferred.clone(),
    }
}
