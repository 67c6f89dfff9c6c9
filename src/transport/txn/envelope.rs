//! The envelope: MAIL FROM and the RCPT TOs (in windows when pipelined), and for a DATA body
//! the DATA command itself. On success the server waits for the body.

use lettre::transport::smtp::extension::{MailBodyParameter, MailParameter, RcptParameter};
use lettre::Address;

use super::{Accepted, Body, Budget, Connection};
use crate::address;
use crate::error::{Error, Reply, Result, Stage};
use crate::message::delivery::{utf8_addr_xtext, xtext};
use crate::message::{Dsn, Prepared};

/// Recipients sent in one write before their replies are read. Bounds how many RCPTs go past
/// a recipient limit we do not know yet (a server may slow down every reply after too many:
/// Postfix's `smtpd_recipient_overshoot_limit`); 100 is Gmail's limit per message.
pub const RCPT_WINDOW: usize = 100;

/// The DATA command (as lettre's `Data` writes it).
const DATA: &str = "DATA\r\n";

/// What the replies so far say.
#[derive(Default)]
struct Replies {
    got: Accepted,
    /// The first refusal; the transaction fails with it.
    failure: Option<Error>,
}

impl Connection {
    /// MAIL and RCPT (and DATA for a DATA body), pipelined when offered.
    pub(super) fn envelope(
        &mut self,
        msg: &Prepared,
        batch: &[String],
        body: Body,
        budget: &Budget,
    ) -> Result<Accepted> {
        let mail = self.mail_command(msg)?;
        let dsn = self.dsn_for(msg);
        let rcpts = batch
            .iter()
            .map(|r| rcpt_command(r, dsn))
            .collect::<Result<Vec<String>>>()?;
        let mut r = Replies::default();
        let data_reply = if self.caps.pipelining {
            self.pipelined(msg, &mail, &rcpts, batch, body, &mut r, budget)?
        } else {
            self.one_by_one(msg, &mail, &rcpts, batch, &mut r, budget)?
        };
        if let Some(e) = r.failure {
            if data_reply.as_ref().is_some_and(|r| r.code == 354) {
                // The server waits for message data we must not send: only closing the
                // connection aborts the transaction (it stays out of step, so it is dropped).
                return Err(e);
            }
            let _ = self.reset(budget);
            return Err(e);
        }
        if body == Body::Bdat {
            return Ok(r.got);
        }
        let data_reply = match data_reply {
            Some(reply) => reply,
            None => {
                self.send_command(DATA, Stage::Data, budget)?;
                self.read_reply(Stage::Data, budget.step())?
            }
        };
        if data_reply.code != 354 {
            let e = self.refused(Stage::Data, data_reply, &msg.from, None);
            let _ = self.reset(budget);
            return Err(e);
        }
        Ok(r.got)
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
        body: Body,
        r: &mut Replies,
        budget: &Budget,
    ) -> Result<Option<Reply>> {
        let mut sent = 0;
        loop {
            let end = (sent + RCPT_WINDOW).min(batch.len());
            let last = end == batch.len();
            let with_data = last && body == Body::Data;
            let data = if with_data { DATA } else { "" };
            let mut out = String::with_capacity(
                mail.len() + rcpts[sent..end].iter().map(String::len).sum::<usize>() + data.len(),
            );
            if sent == 0 {
                out.push_str(mail);
            }
            rcpts[sent..end].iter().for_each(|c| out.push_str(c));
            out.push_str(data);
            self.wire_lines(&out);
            self.write(out.as_bytes(), Stage::MailFrom, budget.step())?;
            if sent == 0 {
                let reply = self.read_reply(Stage::MailFrom, budget.step())?;
                if reply.code != 250 {
                    r.failure = Some(self.refused(Stage::MailFrom, reply, &msg.from, None));
                }
            }
            for rcpt in &batch[sent..end] {
                let reply = match self.read_reply(Stage::RcptTo, budget.step()) {
                    Ok(reply) => reply,
                    // A server that refused MAIL with 421 hangs up: its refusal is the news.
                    Err(e) => return Err(r.failure.take().unwrap_or(e)),
                };
                self.take_rcpt_reply(msg, rcpt, reply, r);
            }
            sent = end;
            if with_data {
                return match self.read_reply(Stage::Data, budget.step()) {
                    Ok(reply) => Ok(Some(reply)),
                    Err(e) => Err(r.failure.take().unwrap_or(e)),
                };
            }
            if last {
                return Ok(None);
            }
            if r.failure.is_some() || !r.got.deferred.is_empty() {
                // No room for more, or the transaction fails anyway: send no further window.
                r.got.deferred.extend(batch[sent..].iter().cloned());
                return Ok(None);
            }
        }
    }

    /// Without PIPELINING: each command waits for its reply, and nothing more is sent after a
    /// refusal.
    fn one_by_one(
        &mut self,
        msg: &Prepared,
        mail: &str,
        rcpts: &[String],
        batch: &[String],
        r: &mut Replies,
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
            if !r.got.deferred.is_empty() {
                r.got.deferred.push(rcpt.clone());
                continue;
            }
            self.send_command(cmd, Stage::RcptTo, budget)?;
            let reply = self.read_reply(Stage::RcptTo, budget.step())?;
            self.take_rcpt_reply(msg, rcpt, reply, r);
            if r.failure.is_some() {
                break;
            }
        }
        Ok(None)
    }

    fn take_rcpt_reply(&mut self, msg: &Prepared, rcpt: &str, reply: Reply, r: &mut Replies) {
        match reply.code {
            250 | 251 => r.got.accepted.push(rcpt.to_string()),
            // No room for more recipients in this transaction: the rest go in the next one.
            _ if reply.too_many_recipients() && !r.got.accepted.is_empty() => {
                r.got.deferred.push(rcpt.to_string())
            }
            _ if r.failure.is_none() => {
                r.failure = Some(self.refused(Stage::RcptTo, reply, &msg.from, Some(rcpt)));
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
            &command("MAIL FROM:<", addr, &[] as &[MailParameter]),
            Stage::MailFrom,
            budget,
        )?;
        let mail = self.read_reply(Stage::MailFrom, budget.step())?;
        if mail.code != 250 {
            let e = self.refused(Stage::MailFrom, mail.clone(), from, None);
            self.settle(&mail);
            return Err(e);
        }
        self.send_command(
            &command("RCPT TO:<", addr, &[] as &[RcptParameter]),
            Stage::RcptTo,
            budget,
        )?;
        let rcpt = self.read_reply(Stage::RcptTo, budget.step())?;
        let refusal = (!matches!(rcpt.code, 250 | 251))
            .then(|| self.refused(Stage::RcptTo, rcpt, from, Some(from)));
        self.reset(budget)?;
        match refusal {
            Some(e) => Err(e),
            None => Ok(mail),
        }
    }

    pub(super) fn mail_command(&self, msg: &Prepared) -> Result<String> {
        let mut params = Vec::new();
        if msg.eight_bit && self.caps.eight_bit_mime {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        if msg.require_tls {
            // `send` has refused the message unless the connection is verified TLS to a server
            // that offers REQUIRETLS.
            params.push(MailParameter::Other {
                keyword: "REQUIRETLS".into(),
                value: None,
            });
        }
        if msg.smtputf8 {
            // `send` has refused the message for a server without SMTPUTF8.
            params.push(MailParameter::SmtpUtfEight);
        }
        if let Some(dsn) = self.dsn_for(msg) {
            if let Some(ret) = dsn.ret {
                params.push(encoded("RET", ret.keyword()));
            }
            if let Some(envid) = &dsn.envid {
                params.push(encoded("ENVID", &xtext(envid)));
            }
        }
        let from = if msg.from.is_empty() {
            ""
        } else {
            envelope_address(&msg.from)?
        };
        Ok(command("MAIL FROM:<", from, &params))
    }

    /// The message's DSN request when it asks one and the server offers DSN (`send` has
    /// refused a message that requires DSN from a server without it).
    pub(super) fn dsn_for<'a>(&self, msg: &'a Prepared) -> Option<&'a Dsn> {
        (self.caps.dsn && msg.dsn.is_asked()).then_some(&msg.dsn)
    }

    /// The lines of a pipelined write, for the conversation log.
    pub(super) fn wire_lines(&self, out: &str) {
        if self.wire_enabled() {
            for line in out.lines() {
                self.wire(format_args!("C: {line}"));
            }
        }
    }
}

pub(super) fn rcpt_command(addr: &str, dsn: Option<&Dsn>) -> Result<String> {
    let mut params = Vec::new();
    if let Some(dsn) = dsn {
        if let Some(notify) = dsn.notify {
            params.push(RcptParameter::Other {
                keyword: format!("NOTIFY={notify}"),
                value: None,
            });
        }
        // The recipient as the sender named it, echoed in the notification (RFC 3461 4.2; a
        // UTF-8 address in RFC 6533's utf-8 form, which only an SMTPUTF8 server is sent).
        let orcpt = if addr.is_ascii() {
            format!("ORCPT=rfc822;{}", xtext(addr))
        } else {
            format!("ORCPT=utf-8;{}", utf8_addr_xtext(addr))
        };
        params.push(RcptParameter::Other {
            keyword: orcpt,
            value: None,
        });
    }
    Ok(command("RCPT TO:<", envelope_address(addr)?, &params))
}

/// `MAIL FROM:<addr> PARAM...` or `RCPT TO:<addr> PARAM...` with its CRLF, as lettre's
/// commands write themselves, in one buffer without its formatting machinery.
fn command(verb: &str, addr: &str, params: &[impl std::fmt::Display]) -> String {
    use std::fmt::Write as _;
    let mut cmd = String::with_capacity(verb.len() + addr.len() + 3 + 24 * params.len());
    cmd.push_str(verb);
    cmd.push_str(addr);
    cmd.push('>');
    for p in params {
        let _ = write!(cmd, " {p}");
    }
    cmd.push_str("\r\n");
    cmd
}

/// `KEYWORD=value` with the value already in its wire form: lettre's own xtext leaves
/// non-ASCII bytes as they are and writes `+A` for a byte below 0x10.
fn encoded(keyword: &str, value: &str) -> MailParameter {
    MailParameter::Other {
        keyword: format!("{keyword}={value}"),
        value: None,
    }
}

/// The address as it goes between `<` and `>`, once lettre's parser takes it: the last line of
/// defence against a line break or a `>` in a command. An address the parser took lately in
/// this thread (when the message was built, or for an earlier message) is not parsed again.
fn envelope_address(addr: &str) -> Result<&str> {
    if address::lettre_checked(addr) {
        return Ok(addr);
    }
    let checked = addr
        .parse::<Address>()
        .map_err(|e| Error::Message(format!("invalid envelope address \"{addr}\": {e}")))?;
    debug_assert_eq!(AsRef::<str>::as_ref(&checked), addr);
    address::remember_lettre_checked(addr);
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::transport::smtp::commands::{Data, Mail, Rcpt};

    #[test]
    fn commands_are_those_lettre_writes() {
        assert_eq!(DATA, Data.to_string());
        let a: Address = "a@example.org".parse().unwrap();
        let params = vec![
            MailParameter::Body(MailBodyParameter::EightBitMime),
            MailParameter::SmtpUtfEight,
            encoded("ENVID", "x+2By"),
        ];
        assert_eq!(
            command("MAIL FROM:<", "a@example.org", &params),
            Mail::new(Some(a.clone()), params).to_string()
        );
        assert_eq!(
            command("MAIL FROM:<", "", &[] as &[MailParameter]),
            Mail::new(None, vec![]).to_string()
        );
        let dsn = Dsn {
            notify: Some(crate::message::delivery::Notify {
                success: true,
                failure: true,
                delay: false,
            }),
            ..Default::default()
        };
        assert_eq!(
            rcpt_command("a@example.org", Some(&dsn)).unwrap(),
            "RCPT TO:<a@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@example.org\r\n"
        );
        assert_eq!(
            rcpt_command("a@example.org", None).unwrap(),
            Rcpt::new(a, vec![]).to_string()
        );
    }

    #[test]
    fn an_envelope_address_is_checked_until_it_passed() {
        for bad in ["a@b>\r\nRCPT TO:<c@d", "a>b@example.org", "no-at", ""] {
            for _ in 0..2 {
                assert!(rcpt_command(bad, None).is_err(), "{bad:?}");
            }
        }
        for _ in 0..2 {
            assert_eq!(
                rcpt_command("ok@example.org", None).unwrap(),
                "RCPT TO:<ok@example.org>\r\n"
            );
        }
    }
}
