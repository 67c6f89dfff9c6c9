//! The body: DATA's dot-stuffed message and final dot, or CHUNKING's `BDAT <n> LAST` with the
//! exact bytes (RFC 3030) — for one recipient, the whole transaction in one write and one
//! round trip.

use super::{unknown, Accepted, Connection};
use crate::error::{Error, Reply, Result, Stage};
use crate::message::Prepared;
use crate::transport::Budget;

impl Connection {
    /// MAIL, RCPT and `BDAT <n> LAST` with the message, in one write; then the three replies.
    /// The chunk is on its way before any reply is read, so once it is written, a lost reply
    /// leaves the outcome unknown unless the server refused MAIL or RCPT first (then it cannot
    /// have taken the message).
    pub(super) fn in_one_round_trip(
        &mut self,
        msg: &Prepared,
        rcpt: &str,
        budget: &Budget,
    ) -> Result<Accepted> {
        let mail = self.mail_command(msg)?;
        let rcpt_cmd = super::envelope::rcpt_command(rcpt)?;
        let mut out = Vec::with_capacity(mail.len() + rcpt_cmd.len() + msg.data.len() + 32);
        out.extend_from_slice(mail.as_bytes());
        out.extend_from_slice(rcpt_cmd.as_bytes());
        out.extend_from_slice(&bdat(&msg.data));
        if self.wire_enabled() {
            self.wire_lines(&mail);
            self.wire_lines(&rcpt_cmd);
            self.wire(format_args!("C: BDAT {} LAST <message>", msg.data.len()));
        }
        self.write(&out, Stage::Message, budget.step())?;
        let got = Accepted {
            accepted: vec![rcpt.to_string()],
            deferred: Vec::new(),
        };
        let mail_reply = self
            .read_reply(Stage::MailFrom, budget.step())
            .map_err(|cause| unknown(msg, cause, &got))?;
        let mut failure = None;
        if mail_reply.code != 250 {
            failure = Some(self.refused(Stage::MailFrom, mail_reply, &msg.from, None));
        }
        let rcpt_reply = match self.read_reply(Stage::RcptTo, budget.step()) {
            Ok(r) => r,
            Err(cause) => return Err(failure.unwrap_or_else(|| unknown(msg, cause, &got))),
        };
        if failure.is_none() && !matches!(rcpt_reply.code, 250 | 251) {
            failure = Some(self.refused(Stage::RcptTo, rcpt_reply, &msg.from, Some(rcpt)));
        }
        let reply = match self.read_reply(Stage::FinalReply, budget.final_reply()) {
            Ok(r) => r,
            Err(cause) => return Err(failure.unwrap_or_else(|| unknown(msg, cause, &got))),
        };
        if let Some(e) = failure {
            // The server must have swallowed the chunk (RFC 3030); rather than rely on it, the
            // connection is not kept (it is not marked in step).
            return Err(e);
        }
        if !(200..300).contains(&reply.code) {
            return Err(self.chunk_refused(msg, reply));
        }
        self.finish(msg, reply, got)
    }

    /// The server refused the BDAT chunk. When the refusal is about BDAT itself (an unknown
    /// command, or words about chunking), DATA is used for this server from now on and the
    /// pool sends the message again with it on a new connection (nothing was delivered). The
    /// connection is not kept either way: a server that does not know BDAT read the chunk as
    /// commands.
    pub(super) fn chunk_refused(&mut self, msg: &Prepared, reply: Reply) -> Error {
        let text = reply.text.to_ascii_lowercase();
        if matches!(reply.code, 500 | 502 | 504)
            || (reply.code >= 500 && (text.contains("bdat") || text.contains("chunking")))
        {
            log::log!(
                target: crate::transport::WIRE_LOG,
                self.wire_level(),
                "{}:{} refused BDAT (\"{reply}\"): sending with DATA from now on",
                self.host,
                self.port
            );
            self.facts.no_chunking = true;
        }
        self.refused(Stage::FinalReply, reply, &msg.from, None)
    }
}

/// `BDAT <n> LAST` and the message as it is (CRLF line ends, no dot-stuffing).
pub fn bdat(data: &[u8]) -> Vec<u8> {
    let mut out = format!("BDAT {} LAST\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out
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

    #[test]
    fn a_chunk_is_the_exact_bytes() {
        assert_eq!(bdat(b".a\r\n"), b"BDAT 4 LAST\r\n.a\r\n");
    }
}
