//! One message over an open connection: the envelope (MAIL FROM, RCPT TO in windows), DATA, the
//! message and its final dot, and the final reply; recipients in as many transactions as the
//! server's recipient limit needs.
//!
//! What each failure means for the message:
//! - refused before DATA, or the connection failed before the message was written: not sent;
//! - the message written, no final reply: unknown (never retried);
//! - an earlier transaction of the same send accepted: partial.
//!
//! A refused recipient fails the whole transaction (RSET), so a message never goes to some of
//! its recipients silently. Only "too many recipients" (452 4.5.3, or 452 without an enhanced
//! code) moves the rest to a further transaction.

use std::time::Instant;

use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{MailBodyParameter, MailParameter};
use lettre::Address;

use super::{Budget, Connection};
use crate::error::{Error, Reply, Result, Stage};
use crate::message::Prepared;

/// Recipients sent in one write before their replies are read. Bounds how many RCPTs go past
/// a recipient limit we do not know yet (a server may slow down every reply after too many:
/// Postfix's `smtpd_recipient_overshoot_limit`); 100 is Gmail's limit per message.
pub const RCPT_WINDOW: usize = 100;

/// The recipients of one transaction that the server took, and those it had no room for.
struct Accepted {
    accepted: Vec<String>,
    deferred: Vec<String>,
}

impl Connection {
    /// Sends one message. On failure the error says what became of it (see the module doc).
    pub fn send(&mut self, msg: &Prepared, budget: &Budget) -> Result<()> {
        let mut delivered: Vec<String> = Vec::new();
        let mut pending: Vec<String> = msg.rcpts.clone();
        let mut payload: Option<Vec<u8>> = None;
        while !pending.is_empty() {
            let take = self
                .facts
                .rcpt_limit
                .map_or(pending.len(), |limit| limit.clamp(1, pending.len()));
            let rest = pending.split_off(take);
            let batch = pending;
            match self.transaction(msg, &batch, budget, &mut payload) {
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

    fn transaction(
        &mut self,
        msg: &Prepared,
        batch: &[String],
        budget: &Budget,
        payload: &mut Option<Vec<u8>>,
    ) -> Result<Accepted> {
        self.in_step = false;
        let envelope = self.envelope(msg, batch, budget)?;
        let data = payload.get_or_insert_with(|| dot_stuff(&msg.data));
        self.wire(format_args!("C: <message, {} bytes>", data.len()));
        self.write(data, Stage::Message, budget.step())?;
        let reply = self
            .read_reply(Stage::FinalReply, budget.final_reply())
            .map_err(|cause| Error::Unknown {
                cause: Box::new(cause),
                message_id: msg.message_id.clone(),
                delivered: Vec::new(),
                unknown: envelope.accepted.clone(),
                undelivered: envelope.deferred.clone(),
            })?;
        self.settle(&reply);
        if !(200..300).contains(&reply.code) {
            return Err(self.refused(Stage::FinalReply, reply, &msg.from, None));
        }
        self.messages += 1;
        self.last_used = Instant::now();
        Ok(envelope)
    }

    /// MAIL, RCPT and DATA, pipelined when offered: on success the server waits for the message.
    fn envelope(&mut self, msg: &Prepared, batch: &[String], budget: &Budget) -> Result<Accepted> {
        let mail = self.mail_command(msg)?;
        let rcpts = batch
            .iter()
            .map(|r| Ok(Rcpt::new(envelope_address(r)?, vec![]).to_string()))
            .collect::<Result<Vec<String>>>()?;
        let mut got = Accepted {
            accepted: Vec::new(),
            deferred: Vec::new(),
        };
        let mut failure: Option<Error> = None;
        let data_reply = if self.caps.pipelining {
            self.pipelined(msg, &mail, &rcpts, batch, &mut got, &mut failure, budget)?
        } else {
            self.one_by_one(msg, &mail, &rcpts, batch, &mut got, &mut failure, budget)?
        };
        if let Some(e) = failure {
            if data_reply.as_ref().is_some_and(|r| r.code == 354) {
                // The server waits for message data we must not send: only closing the
                // connection aborts the transaction (it stays out of step, so it is dropped).
                return Err(e);
            }
            let _ = self.reset(budget);
            return Err(e);
        }
        let data_reply = match data_reply {
            Some(r) => r,
            None => {
                self.send_command(&Data.to_string(), Stage::Data, budget)?;
                self.read_reply(Stage::Data, budget.step())?
            }
        };
        if data_reply.code != 354 {
            let e = self.refused(Stage::Data, data_reply, &msg.from, None);
            let _ = self.reset(budget);
            return Err(e);
        }
        Ok(got)
    }

    /// MAIL and the RCPTs in windows of `RCPT_WINDOW`, each window one write; DATA goes with
    /// the last window. Returns the reply to DATA when DATA was sent.
    #[allow(clippy::too_many_arguments)]
    fn pipelined(
        &mut self,
        msg: &Prepared,
        mail: &str,
        rcpts: &[String],
        batch: &[String],
        got: &mut Accepted,
        failure: &mut Option<Error>,
        budget: &Budget,
    ) -> Result<Option<Reply>> {
        let mut sent = 0;
        loop {
            let end = (sent + RCPT_WINDOW).min(batch.len());
            let last = end == batch.len();
            let mut out = String::new();
            if sent == 0 {
                out.push_str(mail);
            }
            rcpts[sent..end].iter().for_each(|c| out.push_str(c));
            if last {
                out.push_str(&Data.to_string());
            }
            if self.wire_enabled() {
                for line in out.lines() {
                    self.wire(format_args!("C: {line}"));
                }
            }
            self.write(out.as_bytes(), Stage::MailFrom, budget.step())?;
            if sent == 0 {
                let reply = self.read_reply(Stage::MailFrom, budget.step())?;
                if reply.code != 250 {
                    *failure = Some(self.refused(Stage::MailFrom, reply, &msg.from, None));
                }
            }
            for rcpt in &batch[sent..end] {
                let reply = match self.read_reply(Stage::RcptTo, budget.step()) {
                    Ok(r) => r,
                    // A server that refused MAIL with 421 hangs up: its refusal is the news.
                    Err(e) => return Err(failure.take().unwrap_or(e)),
                };
                self.take_rcpt_reply(msg, rcpt, reply, got, failure);
            }
            sent = end;
            if last {
                return match self.read_reply(Stage::Data, budget.step()) {
                    Ok(r) => Ok(Some(r)),
                    Err(e) => Err(failure.take().unwrap_or(e)),
                };
            }
            if failure.is_some() || !got.deferred.is_empty() {
                // No room for more, or the transaction fails anyway: send no further window.
                got.deferred.extend(batch[sent..].iter().cloned());
                return Ok(None);
            }
        }
    }

    /// Without PIPELINING: each command waits for its reply, and nothing more is sent after a
    /// refusal.
    #[allow(clippy::too_many_arguments)]
    fn one_by_one(
        &mut self,
        msg: &Prepared,
        mail: &str,
        rcpts: &[String],
        batch: &[String],
        got: &mut Accepted,
        failure: &mut Option<Error>,
        budget: &Budget,
    ) -> Result<Option<Reply>> {
        self.send_command(mail, Stage::MailFrom, budget)?;
        let reply = self.read_reply(Stage::MailFrom, budget.step())?;
        if reply.code != 250 {
            let e = self.refused(Stage::MailFrom, reply.clone(), &msg.from, None);
            // No transaction was opened: nothing to reset.
            self.settle(&reply);
            return Err(e);
        }
        for (rcpt, cmd) in batch.iter().zip(rcpts) {
            if !got.deferred.is_empty() {
                got.deferred.push(rcpt.clone());
                continue;
            }
            self.send_command(cmd, Stage::RcptTo, budget)?;
            let reply = self.read_reply(Stage::RcptTo, budget.step())?;
            self.take_rcpt_reply(msg, rcpt, reply, got, failure);
            if failure.is_some() {
                break;
            }
        }
        Ok(None)
    }

    fn take_rcpt_reply(
        &mut self,
        msg: &Prepared,
        rcpt: &str,
        reply: Reply,
        got: &mut Accepted,
        failure: &mut Option<Error>,
    ) {
        match reply.code {
            250 | 251 => got.accepted.push(rcpt.to_string()),
            // No room for more recipients in this transaction: the rest go in the next one.
            _ if reply.too_many_recipients() && !got.accepted.is_empty() => {
                got.deferred.push(rcpt.to_string())
            }
            _ if failure.is_none() => {
                *failure = Some(self.refused(Stage::RcptTo, reply, &msg.from, Some(rcpt)));
            }
            _ => {}
        }
    }

    /// Would the server take mail from this sender? MAIL FROM, then RCPT TO the sender itself
    /// (servers such as Postfix judge the sender only when a recipient is given), then RSET.
    /// Sends no message. Returns the reply to MAIL FROM.
    pub fn check_sender(&mut self, from: &str, budget: &Budget) -> Result<Reply> {
        self.in_step = false;
        let addr = envelope_address(from)?;
        self.send_command(
            &Mail::new(Some(addr.clone()), vec![]).to_string(),
            Stage::MailFrom,
            budget,
        )?;
        let mail = self.read_reply(Stage::MailFrom, budget.step())?;
        if mail.code != 250 {
            let e = self.refused(Stage::MailFrom, mail.clone(), from, None);
            self.settle(&mail);
            return Err(e);
        }
        self.send_command(&Rcpt::new(addr, vec![]).to_string(), Stage::RcptTo, budget)?;
        let rcpt = self.read_reply(Stage::RcptTo, budget.step())?;
        let refusal = (!matches!(rcpt.code, 250 | 251))
            .then(|| self.refused(Stage::RcptTo, rcpt, from, Some(from)));
        self.reset(budget)?;
        match refusal {
            Some(e) => Err(e),
            None => Ok(mail),
        }
    }

    fn mail_command(&self, msg: &Prepared) -> Result<String> {
        let mut params = Vec::new();
        if msg.eight_bit && self.caps.eight_bit_mime {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let from = if msg.from.is_empty() {
            None
        } else {
            Some(envelope_address(&msg.from)?)
        };
        Ok(Mail::new(from, params).to_string())
    }
}

fn envelope_address(addr: &str) -> Result<Address> {
    addr.parse::<Address>()
        .map_err(|e| Error::Message(format!("invalid envelope address \"{addr}\": {e}")))
}

/// Dot-stuffing (RFC 5321 section 4.5.2) plus the terminating `.` line. The input already
/// has CRLF line ends and ends with CRLF.
pub fn dot_stuff(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 64 + 5);
    let mut at_line_start = true;
    for &b in data {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing() {
        assert_eq!(
            dot_stuff(b"a\r\n.b\r\n..c\r\n"),
            b"a\r\n..b\r\n...c\r\n.\r\n"
        );
        assert_eq!(dot_stuff(b".\r\n"), b"..\r\n.\r\n");
        assert_eq!(dot_stuff(b"x.y\r\n"), b"x.y\r\n.\r\n");
    }
}
