//! What a refusal is about. Servers do not always refuse at the command the refusal concerns:
//! Postfix checks the sender when the first recipient is given (`smtpd_delay_reject`), and
//! Microsoft 365 refuses a sender it will not send as after the message. So the reply's own
//! words decide, and the command it answered only breaks ties.

use super::{Reply, Stage};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    /// The sender address is not allowed (for this account, or at all).
    Sender(String),
    Recipient(String),
    /// The message itself: its size, content or policy.
    Message,
    /// The session rather than this message: greeting, EHLO, TLS, login, or the server closing.
    Session,
    /// The server wants a login before it takes mail (530 at MAIL FROM).
    LoginRequired,
    /// The provider's sending quota for this account or machine: sending too fast, or too much
    /// for the day. Sending again at once only meets the same refusal.
    Quota(Quota),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Too fast: a per-second or per-minute rate. Sending later, more slowly, works.
    Rate,
    /// Too much for the day: nothing more goes out until the provider's day window resets.
    Day,
}

/// Words of a day's quota used up: SES "454 Throttling failure: Daily message quota exceeded",
/// Gmail "550 5.4.5 Daily user sending limit exceeded", Exchange Online's recipient rate limit.
const DAY_WORDS: &[&str] = &[
    "daily",
    "per day",
    "24 hour",
    "sending limit exceeded",
    "sending quota exceeded",
];

/// Words of sending too fast (or too much, without saying for how long): SES "454 Throttling
/// failure: Maximum sending rate exceeded", Exchange "421 4.4.2 Message submission rate for this
/// client has exceeded the configured limit" and "554 5.2.0 STOREDRV.Submission.Exception:
/// SubmissionQuotaExceededException", Gmail "421 4.7.28 ... unusual rate", Postfix's anvil
/// "450 4.7.1 Error: too much mail from".
const RATE_WORDS: &[&str] = &[
    "throttling",
    "throttled",
    "sending rate",
    "submission rate",
    "message rate",
    "rate limit",
    "rate exceeded",
    "unusual rate",
    "submissionquotaexceeded",
    "sending quota",
    "message quota",
    "too much mail",
];

/// The provider's quota, when the reply says this account or machine sends too fast or too
/// much. A recipient receiving too fast (Gmail's "receiving mail at a rate") or a full mailbox
/// ("quota exceeded" with 5.2.2) is not this sender's quota.
pub fn quota(reply: &Reply) -> Option<Quota> {
    if reply.is_positive() {
        return None;
    }
    let text = reply.text.to_ascii_lowercase();
    if text.contains("receiving mail at a rate") || text.contains("too many connections") {
        return None;
    }
    let gmail_day = reply.enhanced.as_deref() == Some("5.4.5") && text.contains("limit");
    if gmail_day || (DAY_WORDS.iter().any(|w| text.contains(w)) && mentions_sending(&text)) {
        return Some(Quota::Day);
    }
    if !RATE_WORDS.iter().any(|w| text.contains(w)) {
        return None;
    }
    // Exchange Online's SubmissionQuotaExceeded is permanent: the mailbox's recipient quota
    // (10,000 a day) or its message rate; it lifts only when the provider's window has passed.
    if reply.code >= 500 && text.contains("quota") {
        Some(Quota::Day)
    } else {
        Some(Quota::Rate)
    }
}

/// "daily" alone is not enough ("daily maintenance"): the reply must be about sending.
fn mentions_sending(text: &str) -> bool {
    ["send", "quota", "limit"].iter().any(|w| text.contains(w))
}

/// Classifies a refusal. `sender` is the envelope sender of the transaction, `rcpt` the
/// recipient the reply answered (for RCPT TO).
pub fn about(stage: Stage, reply: &Reply, sender: &str, rcpt: Option<&str>) -> About {
    let in_transaction = matches!(
        stage,
        Stage::MailFrom | Stage::RcptTo | Stage::Data | Stage::Message | Stage::FinalReply
    );
    if let Some(q) = quota(reply) {
        return About::Quota(q);
    }
    if !in_transaction || reply.code == 421 {
        return About::Session;
    }
    let text = reply.text.to_ascii_lowercase();
    if stage == Stage::MailFrom && (reply.code == 530 || text.contains("authentication required")) {
        return About::LoginRequired;
    }
    if names_the_sender(reply, &text, sender, rcpt) {
        return About::Sender(sender.to_string());
    }
    match stage {
        Stage::MailFrom if is_about_size(reply, &text) => About::Message,
        Stage::MailFrom => About::Sender(sender.to_string()),
        Stage::RcptTo => About::Recipient(rcpt.unwrap_or_default().to_string()),
        _ => About::Message,
    }
}

fn names_the_sender(reply: &Reply, text: &str, sender: &str, rcpt: Option<&str>) -> bool {
    // RFC 3463: X.1.7 bad sender mailbox syntax, X.1.8 bad sender system address;
    // Microsoft 365's 5.7.60: "Client does not have permissions to send as this sender".
    if let Some(e) = reply.enhanced.as_deref() {
        if e.ends_with(".1.7") || e.ends_with(".1.8") || e == "5.7.60" {
            return true;
        }
    }
    const SENDER_WORDS: &[&str] = &[
        "sender address rejected",
        "sender rejected",
        "sender not allowed",
        "not owned by user",
        "not authorized to use this sender",
        "not allowed to send as",
        "send as this sender",
        "sendas",
        "from address",
        "sender verify failed",
        "sender domain",
    ];
    if SENDER_WORDS.iter().any(|w| text.contains(w)) {
        return true;
    }
    // "<sender@x>: ..." without the recipient: the server quotes the address it objects to.
    let quotes =
        |addr: &str| !addr.is_empty() && text.contains(&format!("<{}>", addr.to_ascii_lowercase()));
    quotes(sender) && !rcpt.is_some_and(quotes)
}

fn is_about_size(reply: &Reply, text: &str) -> bool {
    reply
        .enhanced
        .as_deref()
        .is_some_and(|e| e.ends_with(".3.4"))
        || text.contains("size")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str) -> Reply {
        let enhanced = text
            .split_whitespace()
            .next()
            .filter(|w| w.split('.').count() == 3)
            .map(String::from);
        Reply {
            code,
            enhanced,
            text: text.into(),
        }
    }

    const FROM: &str = "other@example.test";
    const RCPT: &str = "rcpt@example.test";

    #[test]
    fn postfix_sender_login_mismatch_at_rcpt_is_about_the_sender() {
        let r = reply(
            553,
            "5.7.1 <other@example.test>: Sender address rejected: not owned by user wiki@example.test",
        );
        assert_eq!(
            about(Stage::RcptTo, &r, FROM, Some(RCPT)),
            About::Sender(FROM.into())
        );
    }

    #[test]
    fn microsoft_send_as_refusal_after_data_is_about_the_sender() {
        let r = reply(
            550,
            "5.7.60 SMTP; Client does not have permissions to send as this sender",
        );
        assert_eq!(
            about(Stage::FinalReply, &r, FROM, None),
            About::Sender(FROM.into())
        );
    }

    #[test]
    fn unknown_user_at_rcpt_is_about_the_recipient() {
        let r = reply(
            550,
            "5.1.1 <rcpt@example.test>: Recipient address rejected: User unknown",
        );
        assert_eq!(
            about(Stage::RcptTo, &r, FROM, Some(RCPT)),
            About::Recipient(RCPT.into())
        );
        let r = reply(452, "4.2.2 Mailbox full");
        assert_eq!(
            about(Stage::RcptTo, &r, FROM, Some(RCPT)),
            About::Recipient(RCPT.into())
        );
    }

    #[test]
    fn enhanced_sender_codes() {
        for code in ["5.1.7", "5.1.8", "4.1.8"] {
            let r = reply(550, &format!("{code} bad"));
            assert_eq!(
                about(Stage::RcptTo, &r, FROM, Some(RCPT)),
                About::Sender(FROM.into()),
                "{code}"
            );
        }
    }

    #[test]
    fn mail_from_refusals() {
        let r = reply(550, "5.7.1 you are not authorized to use this sender");
        assert_eq!(
            about(Stage::MailFrom, &r, FROM, None),
            About::Sender(FROM.into())
        );
        let r = reply(552, "5.3.4 Message size exceeds fixed limit");
        assert_eq!(about(Stage::MailFrom, &r, FROM, None), About::Message);
        let r = reply(530, "5.7.0 Authentication required");
        assert_eq!(about(Stage::MailFrom, &r, FROM, None), About::LoginRequired);
        let r = reply(421, "4.7.0 closing");
        assert_eq!(about(Stage::MailFrom, &r, FROM, None), About::Session);
    }

    /// Providers' own words (FACTS.md and their documentation), the stage they come at, and
    /// what they are about.
    const PROVIDER_REPLIES: &[(u16, &str, Stage, Option<Quota>)] = &[
        (454, "Throttling failure: Maximum sending rate exceeded.", Stage::MailFrom, Some(Quota::Rate)),
        (454, "Throttling failure: Daily message quota exceeded.", Stage::MailFrom, Some(Quota::Day)),
        (554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception", Stage::FinalReply, Some(Quota::Day)),
        (421, "4.4.2 Message submission rate for this client has exceeded the configured limit", Stage::MailFrom, Some(Quota::Rate)),
        (550, "5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852", Stage::FinalReply, Some(Quota::Day)),
        (550, "5.4.5 Daily SMTP relay limit exceeded for user", Stage::MailFrom, Some(Quota::Day)),
        (421, "4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address", Stage::FinalReply, Some(Quota::Rate)),
        (450, "4.7.1 Error: too much mail from 127.0.0.1", Stage::MailFrom, Some(Quota::Rate)),
        (421, "4.7.0 Try again later, closing connection. (rate limit exceeded)", Stage::Greeting, Some(Quota::Rate)),
        // Not this sender's quota:
        (450, "4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered", Stage::RcptTo, None),
        (552, "5.2.2 <rcpt@example.test>: Recipient address rejected: Quota exceeded", Stage::RcptTo, None),
        (421, "4.7.0 localhost Error: too many connections from 127.0.0.1", Stage::Greeting, None),
        (432, "4.3.2 Concurrent connections limit exceeded", Stage::Greeting, None),
        (421, "4.7.0 Try again later, closing connection.", Stage::MailFrom, None),
        // A session's own message limit (Amazon SES ends a session after about 350): a new
        // connection takes the next message, so it is no quota.
        (421, "4.7.0 Too many messages, closing connection", Stage::MailFrom, None),
        (451, "4.4.2 Timeout - closing connection", Stage::MailFrom, None),
        (550, "5.4.5 Mail system congestion", Stage::FinalReply, None),
        (421, "4.3.2 System not accepting network messages; daily maintenance", Stage::Greeting, None),
    ];

    #[test]
    fn provider_quota_replies_are_the_quota_and_others_are_not() {
        for &(code, text, stage, want) in PROVIDER_REPLIES {
            let r = reply(code, text);
            assert_eq!(quota(&r), want, "{code} {text}");
            let got = about(stage, &r, FROM, Some(RCPT));
            match want {
                Some(q) => assert_eq!(got, About::Quota(q), "{code} {text}"),
                None => assert!(!matches!(got, About::Quota(_)), "{code} {text}"),
            }
        }
    }
}
