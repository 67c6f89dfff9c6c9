//! The body as it goes on the wire: CRLF line ends, no line over 998 octets (quoted-printable
//! where the message allows it, else folded as Postfix folds), and the 7-bit form for a server
//! without 8BITMIME.

use std::borrow::Cow;

use super::Prepared;
use crate::encode::{crlf_lines, folded_lines, for_each_line, quoted_printable, Count, Out};
use crate::error::{Error, Result};

impl Prepared {
    /// The message for a server without 8BITMIME: as it is when it is 7-bit; else with the
    /// body re-encoded as quoted-printable, as Postfix converts it for such a server. A message
    /// whose 8-bit data cannot be converted (8-bit header text, a multipart body with 8-bit
    /// parts) is an error before anything is sent.
    pub fn seven_bit(&self) -> Result<Cow<'_, Prepared>> {
        if !self.eight_bit {
            return Ok(Cow::Borrowed(self));
        }
        let (head, body) = self.data.split_at(self.body_start);
        if head.iter().any(|&b| b >= 0x80) {
            return Err(Error::Message(
                "the message has 8-bit (non-ASCII) header text and the server does not offer \
                 8BITMIME: write non-ASCII header text as RFC 2047 encoded words, or send \
                 through a server that offers 8BITMIME"
                    .into(),
            ));
        }
        if !self.body_reencodable {
            return Err(Error::Message(
                "the message body has 8-bit (non-ASCII) data in a multipart or already encoded \
                 body and the server does not offer 8BITMIME: encode each part as \
                 quoted-printable or base64 (Content-Transfer-Encoding), or send through a \
                 server that offers 8BITMIME"
                    .into(),
            ));
        }
        let mut new_head = Vec::with_capacity(head.len() + 64);
        let mut has_mime_version = false;
        let mut skipping = false;
        // The header lines (without the empty line that ends them): the old
        // Content-Transfer-Encoding goes, with its continuation lines.
        let lines = head.strip_suffix(b"\r\n").unwrap_or(head);
        for line in lines.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b" ") || line.starts_with(b"\t") {
                if !skipping {
                    new_head.extend_from_slice(line);
                }
                continue;
            }
            let lower = line.to_ascii_lowercase();
            skipping = lower.starts_with(b"content-transfer-encoding:");
            has_mime_version |= lower.starts_with(b"mime-version:");
            if !skipping {
                new_head.extend_from_slice(line);
            }
        }
        if !has_mime_version {
            new_head.extend_from_slice(b"MIME-Version: 1.0\r\n");
        }
        new_head.extend_from_slice(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        let mut size = Count(new_head.len());
        quoted_printable(body, &mut size);
        let mut data = Vec::with_capacity(size.0);
        data.extend_from_slice(&new_head);
        quoted_printable(body, &mut data);
        Ok(Cow::Owned(Prepared {
            from: self.from.clone(),
            rcpts: self.rcpts.clone(),
            message_id: self.message_id.clone(),
            eight_bit: false,
            body_start: new_head.len(),
            body_reencodable: true,
            data,
            dsn: self.dsn.clone(),
            smtputf8: self.smtputf8,
            require_tls: self.require_tls,
        }))
    }
}

/// How the body goes into the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyForm {
    /// CRLF line ends, otherwise as given.
    Lines,
    /// Quoted-printable: a line over 998 octets in a body that allows it.
    QuotedPrintable,
    /// Lines over 998 octets broken as Postfix does (CRLF + space): multipart or encoded.
    Folded,
}

impl BodyForm {
    pub(super) fn write(self, body: &[u8], out: &mut impl Out) {
        match self {
            BodyForm::Lines => crlf_lines(body, out),
            BodyForm::QuotedPrintable => quoted_printable(body, out),
            BodyForm::Folded => folded_lines(body, out),
        }
    }
}

/// What one pass over the body finds, without copying it.
pub(super) struct BodyScan {
    /// The longest line (lines end at LF).
    pub longest: usize,
    pub eight_bit: bool,
    /// The size of `BodyForm::Lines` (what `crlf_lines` writes): so the usual form needs no
    /// counting pass of its own.
    pub lines_size: usize,
}

pub(super) fn scan_body(body: &[u8]) -> BodyScan {
    let (mut longest, mut lines_size) = (0, 0);
    for_each_line(body, |line, brk| {
        longest = longest.max(line.len());
        lines_size += line.len() + if brk { 2 } else { 0 };
    });
    BodyScan {
        longest,
        eight_bit: body.iter().any(|&b| b >= 0x80),
        lines_size,
    }
}

/// Lines end with CRLF (LF alone ends one too); a lone CR becomes a space.
pub fn normalize_crlf(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 32);
    crlf_lines(body, &mut out);
    out
}
