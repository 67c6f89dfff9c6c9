//! The body: DATA's dot-stuffed message and final dot, or CHUNKING's `BDAT <n> LAST` with the
//! exact bytes (RFC 3030).
//!
//! Written in pieces of `PIECE` bytes, framed (dot-stuffed) piece by piece: no copy of the
//! whole message is made, and each piece gets a step deadline of its own, so the data timeout is
//! "no progress for smtp.timeout" under smtp.max_time, as Postfix's `smtp_data_xfer_timeout`.
//!
//! Time rule: the piece that carries the end of data goes out only when what is left of
//! smtp.max_time still covers a reserve for the server's final reply (one smtp.timeout, but at
//! most a third of smtp.max_time, so that a max_time close to the timeout still leaves room for
//! the rest). Otherwise the end never goes out and the message is certainly not sent (safe to
//! retry), instead of written with milliseconds left and its outcome unknown. And the body is
//! not even started when the reserve plus the message at `FLOOR_RATE` does not fit: an upload
//! that cannot finish is not begun.

use std::time::{Duration, Instant};

use super::{unknown, Accepted, Body, Connection};
use crate::error::{Error, Reply, Result, Stage};
use crate::message::Prepared;
use crate::transport::Budget;

/// Bytes per write.
const PIECE: usize = 64 * 1024;

/// The rate a body is assumed to need at least, in bytes per second, for the start rule: a
/// fast link's (10 MB/s), so that a 30 MB message under the default smtp.max_time still starts
/// (a slower rate would refuse large messages a fast server takes in a second). A slower link
/// does not fail because of it: the end rule still keeps the outcome "not sent" when the time
/// runs out during the upload.
pub const FLOOR_RATE: u64 = 10_000_000;

/// How long to wait for what a server sent before it stopped reading the body (its refusal).
const LAST_WORDS: Duration = Duration::from_millis(500);

/// The wait, after a lone `BDAT` line to a server that has not yet shown that it takes BDAT,
/// for its refusal, as a multiple of the envelope's round trip, and its bounds.
const EARLY_REFUSAL_RTTS: u32 = 4;
const EARLY_REFUSAL_MIN: Duration = Duration::from_millis(50);
const EARLY_REFUSAL_MAX: Duration = Duration::from_secs(1);

/// The message as a sequence of pieces of at most about `PIECE` bytes, framed for `Body`; the
/// last piece carries the end of data (DATA's final dot).
struct Pieces<'a> {
    data: &'a [u8],
    at: usize,
    kind: Body,
    at_line_start: bool,
}

impl<'a> Pieces<'a> {
    fn new(data: &'a [u8], kind: Body) -> Pieces<'a> {
        Pieces {
            data,
            at: 0,
            kind,
            at_line_start: true,
        }
    }

    /// Appends the next piece to `buf` (up to `PIECE` bytes in all); true when it ends the body.
    fn fill(&mut self, buf: &mut Vec<u8>) -> bool {
        let room = PIECE.saturating_sub(buf.len()).max(1);
        match self.kind {
            Body::Bdat => {
                let end = (self.at + room).min(self.data.len());
                buf.extend_from_slice(&self.data[self.at..end]);
                self.at = end;
            }
            Body::Data => {
                let limit = buf.len() + room;
                while self.at < self.data.len() && buf.len() < limit {
                    if self.at_line_start && self.data[self.at] == b'.' {
                        buf.push(b'.');
                    }
                    let rest = &self.data[self.at..];
                    let space = limit.saturating_sub(buf.len()).max(1);
                    let window = &rest[..rest.len().min(space)];
                    // Lines go in runs, up to the next line that starts with a dot (it needs
                    // one more) or the end of the piece.
                    let take = dot_line(window).unwrap_or(window.len());
                    buf.extend_from_slice(&rest[..take]);
                    self.at += take;
                    self.at_line_start = rest[take - 1] == b'\n';
                }
                if self.at == self.data.len() {
                    if !self.data.ends_with(b"\r\n") {
                        buf.extend_from_slice(b"\r\n");
                    }
                    buf.extend_from_slice(b".\r\n");
                }
            }
        }
        self.at == self.data.len()
    }
}

/// Where the first line after the start of `bytes` that begins with a dot begins (just after
/// its LF).
fn dot_line(bytes: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', bytes)
        .map(|nl| nl + 1)
        .find(|&next| bytes.get(next) == Some(&b'.'))
}

/// The time kept for the server's reply to the end of data: one smtp.timeout, at most a third
/// of smtp.max_time.
fn reply_reserve(budget: &Budget, total: Duration) -> Duration {
    budget.step_length().min(total / 3)
}

/// Whether the message may start, by the module's time rule: `Err(needed, left, total)` if not.
fn time_for(
    size: usize,
    budget: &Budget,
) -> std::result::Result<(), (Duration, Duration, Duration)> {
    let Some((left, total)) = budget.left() else {
        return Ok(());
    };
    let transfer = Duration::from_secs_f64(size as f64 / FLOOR_RATE as f64);
    let needed = reply_reserve(budget, total) + transfer;
    if left >= needed {
        Ok(())
    } else {
        Err((needed, left, total))
    }
}

impl Connection {
    /// Refuses to start a message the rest of the call has no time for (the module's rule).
    pub(super) fn time_for_body(&self, msg: &Prepared, budget: &Budget) -> Result<()> {
        time_for(msg.data.len(), budget).map_err(|(needed, left, max_time)| {
            Error::NoTimeForMessage {
                host: self.host.clone(),
                size: msg.data.len() as u64,
                left,
                needed,
                max_time,
            }
        })
    }

    /// Writes `head` (commands that go in the same write) and the message framed as `kind`,
    /// piece by piece. A write that fails leaves the end of data unsent: the server cannot have
    /// taken the message, and its own reply, when it sent one before it stopped reading (a 552
    /// before closing), is the error. `before` are the stages of replies due before the body's
    /// own (MAIL and RCPT, when they went in the same write).
    pub(super) fn write_body(
        &mut self,
        head: &[u8],
        msg: &Prepared,
        kind: Body,
        before: &[Stage],
        budget: &Budget,
    ) -> Result<()> {
        self.time_for_body(msg, budget)?;
        let mut pieces = Pieces::new(&msg.data, kind);
        // Sized for the message when it is smaller than a piece: a 64 KiB buffer for a 1 KiB
        // mail cost more in malloc and free (which then consolidates) than the rest of the write.
        let mut buf = Vec::with_capacity(head.len() + msg.data.len().min(PIECE) + 8);
        buf.extend_from_slice(head);
        loop {
            let last = pieces.fill(&mut buf);
            if last {
                if let Some((left, max_time)) = budget.left() {
                    let needed = reply_reserve(budget, max_time);
                    if left < needed {
                        return Err(Error::NoTimeForMessage {
                            host: self.host.clone(),
                            size: msg.data.len() as u64,
                            left,
                            needed,
                            max_time,
                        });
                    }
                }
            }
            let deadline = budget.step();
            if let Err(e) = self.stream.write_all(&buf, deadline) {
                let cut = self.io_error(Stage::Message, e, deadline);
                return Err(self.last_words(msg, cut, before, budget));
            }
            if last {
                return Ok(());
            }
            buf.clear();
        }
    }

    /// After a write of the body failed: the server's refusal when it sent one before it
    /// stopped reading, else `cut`. Either way the end of data never went out: not sent.
    fn last_words(
        &mut self,
        msg: &Prepared,
        cut: Error,
        before: &[Stage],
        budget: &Budget,
    ) -> Error {
        let wait = if budget.exhausted() {
            Duration::from_millis(10)
        } else {
            LAST_WORDS.min(budget.step_length())
        };
        let deadline = Budget::new(wait, None).step();
        for stage in before.iter().copied().chain([Stage::Message]) {
            match self.read_reply(stage, deadline) {
                Ok(reply) if reply.code >= 400 => {
                    return self.refused(
                        stage,
                        reply,
                        &msg.from,
                        msg.rcpts
                            .first()
                            .map(|r| r.as_str())
                            .filter(|_| stage == Stage::RcptTo),
                    );
                }
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        cut
    }

    /// MAIL, RCPT and `BDAT <n> LAST` with the message, in one write (its first piece); then the
    /// three replies. Only for a server that completed a BDAT transaction before (the chunk is
    /// on its way before any reply is read). Once it is written, a lost reply leaves the
    /// outcome unknown unless the server refused MAIL or RCPT first (then it cannot have taken
    /// the message).
    pub(super) fn in_one_round_trip(
        &mut self,
        msg: &Prepared,
        rcpt: &str,
        budget: &Budget,
    ) -> Result<Accepted> {
        let mail = self.mail_command(msg)?;
        let rcpt_cmd = super::envelope::rcpt_command(rcpt, self.dsn_for(msg))?;
        let bdat = bdat_line(msg.data.len());
        let mut head = Vec::with_capacity(mail.len() + rcpt_cmd.len() + bdat.len());
        head.extend_from_slice(mail.as_bytes());
        head.extend_from_slice(rcpt_cmd.as_bytes());
        head.extend_from_slice(bdat.as_bytes());
        if self.wire_enabled() {
            self.wire_lines(&mail);
            self.wire_lines(&rcpt_cmd);
            self.wire(format_args!("C: BDAT {} LAST <message>", msg.data.len()));
        }
        self.write_body(
            &head,
            msg,
            Body::Bdat,
            &[Stage::MailFrom, Stage::RcptTo],
            budget,
        )?;
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

    /// `BDAT <n> LAST` and the chunk, after the envelope's replies. To a server that has not yet
    /// completed a BDAT transaction, the BDAT line goes alone first, and a refusal that comes
    /// back within a few round trips of the envelope (`envelope_rtt`) keeps the chunk off the
    /// wire: a server that does not know BDAT would read the message as commands.
    pub(super) fn bdat_after_envelope(
        &mut self,
        msg: &Prepared,
        envelope_rtt: Duration,
        budget: &Budget,
    ) -> Result<()> {
        let line = bdat_line(msg.data.len());
        self.wire(format_args!("C: BDAT {} LAST <message>", msg.data.len()));
        if self.facts.bdat_proven {
            return self.write_body(line.as_bytes(), msg, Body::Bdat, &[], budget);
        }
        self.time_for_body(msg, budget)?;
        self.write(line.as_bytes(), Stage::Message, budget.step())?;
        let wait = (envelope_rtt * EARLY_REFUSAL_RTTS)
            .clamp(EARLY_REFUSAL_MIN, EARLY_REFUSAL_MAX)
            .min(budget.step_length());
        let started = Instant::now();
        match self.read_reply(Stage::Message, budget.with_step(wait).step()) {
            Ok(reply) => {
                log::debug!(
                    "{} answered a lone BDAT line within {:?}: {reply}",
                    self.host,
                    started.elapsed()
                );
                Err(self.chunk_refused(msg, early(reply)))
            }
            Err(Error::Timeout { .. }) if !budget.exhausted() => {
                self.write_body(&[], msg, Body::Bdat, &[], budget)
            }
            Err(e) => Err(e),
        }
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

/// A reply to a lone BDAT line is never an acceptance of the message (that needs the chunk).
fn early(reply: Reply) -> Reply {
    if reply.code < 400 {
        Reply {
            code: 554,
            enhanced: None,
            text: format!("unexpected reply to BDAT before its chunk: {reply}"),
        }
    } else {
        reply
    }
}

fn bdat_line(size: usize) -> String {
    format!("BDAT {size} LAST\r\n")
}

/// Dot-stuffing (RFC 5321 section 4.5.2) plus the terminating `.` line, as the body goes on the
/// wire. The input already has CRLF line ends.
pub fn dot_stuff(data: &[u8]) -> Vec<u8> {
    let mut pieces = Pieces::new(data, Body::Data);
    let mut out = Vec::new();
    loop {
        let mut buf = Vec::new();
        let last = pieces.fill(&mut buf);
        out.extend_from_slice(&buf);
        if last {
            return out;
        }
    }
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
        assert_eq!(dot_stuff(b"x"), b"x\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b"\r\n.\r\n");
    }

    #[test]
    fn dot_stuffing_matches_line_by_line() {
        for data in [
            &b"."[..],
            b"..",
            b"\n.",
            b".\n.\n.",
            b"a\n\n.\n\n..\n",
            b"\r\n.\r\n",
            b"x\r\n.y\r\nz\r\n.",
            b"no dots here\r\nat all\r\n",
            b"\n\n\n",
        ] {
            let mut naive = Vec::new();
            for line in data.split_inclusive(|&b| b == b'\n') {
                if line.starts_with(b".") {
                    naive.push(b'.');
                }
                naive.extend_from_slice(line);
            }
            if !data.ends_with(b"\r\n") {
                naive.extend_from_slice(b"\r\n");
            }
            naive.extend_from_slice(b".\r\n");
            assert_eq!(dot_stuff(data), naive, "{data:?}");
        }
    }

    /// Pieces end anywhere, inside a line too: stuffing must follow line starts across them.
    #[test]
    fn pieces_keep_the_framing_across_their_ends() {
        let mut data = Vec::new();
        for i in 0..40_000usize {
            data.extend_from_slice(if i.is_multiple_of(3) {
                b".dot"
            } else {
                b"line"
            });
            data.extend(std::iter::repeat_n(b'x', i % 97));
            data.extend_from_slice(b"\r\n");
        }
        data.extend(std::iter::repeat_n(b'y', 3 * PIECE));
        data.extend_from_slice(b"\r\n.\r\n");
        let mut naive = Vec::new();
        for line in data.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b".") {
                naive.push(b'.');
            }
            naive.extend_from_slice(line);
        }
        naive.extend_from_slice(b".\r\n");
        let mut pieces = Pieces::new(&data, Body::Data);
        let mut out = Vec::new();
        let mut count = 0;
        loop {
            let mut buf = Vec::new();
            let last = pieces.fill(&mut buf);
            assert!(buf.len() <= PIECE + 8, "{}", buf.len());
            out.extend_from_slice(&buf);
            count += 1;
            if last {
                break;
            }
        }
        assert!(count > 3);
        assert_eq!(out, naive);
        let mut pieces = Pieces::new(&data, Body::Bdat);
        let mut out = b"BDAT\r\n".to_vec();
        while !pieces.fill(&mut out) {}
        assert_eq!(&out[6..], &data[..]);
    }

    #[test]
    fn the_start_rule() {
        let b = Budget::new(Duration::from_secs(5), Some(Duration::from_secs(60)));
        assert!(time_for(200_000_000, &b).is_ok());
        assert!(time_for(600_000_000, &b).is_err());
        // The defaults (10 s, 30 s) start a 30 MB message: a fast server takes it in a second.
        let b = Budget::new(Duration::from_secs(10), Some(Duration::from_secs(30)));
        assert!(time_for(30_000_000, &b).is_ok());
        let b = Budget::new(Duration::from_secs(5), Some(Duration::from_secs(4)));
        let (needed, left, total) = time_for(30_000_000, &b).unwrap_err();
        assert!(needed >= Duration::from_secs(2) && left <= total);
        // A max_time close to the timeout: a third of it is kept for the reply.
        let b = Budget::new(Duration::from_secs(5), Some(Duration::from_secs(5)));
        assert!(time_for(1000, &b).is_ok());
        assert!(time_for(usize::MAX / 2, &Budget::new(Duration::from_secs(5), None)).is_ok());
    }
}
