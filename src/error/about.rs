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
}

/// Classifies a refusal. `sender` is the envelope sender of the transaction, `rcpt` the
/// recipient the reply answered (for RCPT TO).
pub fn about(stage: Stage, reply: &Reply, sender: &str, rcpt: Option<&str>) -> About {
    let in_transaction = matches!(
        stage,
        Stage::MailFrom | Stage::RcptTo | Stage::Data | Stage::Message | Stage::FinalReply
    );
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
}
