//! The words users read: what happened, the server's own reply, what became of the message, and
//! the fix that fits this cause. The README's troubleshooting table lists these messages.

use std::fmt::{self, Write as _};

use super::{About, Error, Limit, NetError, Quota, Reply, Stage};

const PORT_HINT: &str = "Check smtp.host and smtp.port: submission is usually port 587 \
(STARTTLS) or 465 (implicit TLS, host prefix ssl://); port 25 is often blocked by hosting providers";

impl Stage {
    fn waiting_for(self) -> &'static str {
        match self {
            Stage::Resolve => "looking up the host name",
            Stage::Connect => "connecting",
            Stage::Greeting => "waiting for the server's greeting",
            Stage::Ehlo => "waiting for the reply to EHLO",
            Stage::StartTls => "waiting for the reply to STARTTLS",
            Stage::TlsHandshake => "during the TLS handshake",
            Stage::Token => "getting an OAuth 2.0 token",
            Stage::Auth => "during authentication",
            Stage::MailFrom => "waiting for the reply to MAIL FROM",
            Stage::RcptTo => "waiting for the reply to RCPT TO",
            Stage::Data => "waiting for the reply to DATA",
            Stage::Message => "sending the message",
            Stage::FinalReply => "waiting for the server to accept the message",
            Stage::Reset => "resetting the connection (RSET)",
            Stage::Noop => "checking the kept connection (NOOP)",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Step(d) => write!(f, "within {} s (smtp.timeout)", d.as_secs_f64()),
            Limit::Total(d) => write!(
                f,
                "before the time for the whole call ran out (smtp.max_time = {} s)",
                d.as_secs_f64()
            ),
        }
    }
}

impl Limit {
    fn setting(self) -> &'static str {
        match self {
            Limit::Step(_) => "smtp.timeout",
            Limit::Total(_) => "smtp.max_time",
        }
    }
}

fn server_said(reply: &Reply) -> String {
    format!("the server said: \"{reply}\"")
}

/// "a@x, b@x and 3 more".
fn list(addrs: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut s = addrs
        .iter()
        .take(SHOWN)
        .map(|a| format!("<{a}>"))
        .collect::<Vec<_>>()
        .join(", ");
    if addrs.len() > SHOWN {
        let _ = write!(s, " and {} more", addrs.len() - SHOWN);
    }
    s
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(self, f, true)
    }
}

/// The error's cause and fix without what became of a message (for the doctor, which sends
/// none).
pub struct Advice<'a>(pub &'a Error);

impl fmt::Display for Advice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(self.0, f, false)
    }
}

/// `whole`: the error is the whole story, so it may say that nothing was sent. Inside an
/// Unknown or Partial wrapper the wrapper says what became of the message.
fn describe(e: &Error, f: &mut fmt::Formatter<'_>, whole: bool) -> fmt::Result {
    let not_sent = if whole {
        "; the message was not sent"
    } else {
        ""
    };
    match e {
        Error::Config(msg) => write!(f, "invalid setting: {msg}"),
        Error::Message(msg) => write!(f, "{msg}"),
        Error::Token(e) => write!(f, "{e}{not_sent}"),
        Error::TokenRefused {
            provider,
            user,
            reply,
        } => token_refused(f, *provider, user, reply),
        Error::Network(net) => match net {
            NetError::Resolve { host, detail } => write!(
                f,
                "cannot resolve the SMTP host name \"{host}\" ({detail}). Check smtp.host for \
                 typos and that this machine's DNS works"
            ),
            NetError::Refused { host, port } => write!(
                f,
                "connection to {host}:{port} refused: no SMTP server is listening there. \
                 {PORT_HINT}"
            ),
            NetError::Connect { host, port, detail } => write!(
                f,
                "cannot connect to {host}:{port} ({detail}). {PORT_HINT}, and that a firewall \
                 allows outgoing connections to it"
            ),
            NetError::Tls { host, problem } => write!(f, "{}", problem.words(host)),
            // Timeouts and failures on an open connection come as Timeout and Io, with their
            // stage; the network floor's own words otherwise.
            other => write!(f, "{other}"),
        },
        Error::Timeout {
            host,
            port,
            stage,
            limit,
        } => match stage {
            Stage::Resolve => write!(
                f,
                "cannot resolve the SMTP host name \"{host}\": no answer from DNS {limit}. Check \
                 this machine's DNS (/etc/resolv.conf)"
            ),
            Stage::Connect | Stage::Greeting | Stage::TlsHandshake
                if matches!(limit, Limit::Step(_)) =>
            {
                write!(
                    f,
                    "no answer from {host}:{port} {limit} ({}). Wrong port? Try 587 (STARTTLS) or \
                     465 (with the ssl:// host prefix); a port that expects TLS stays silent to a \
                     plain client, and a firewall may drop the connection",
                    stage.waiting_for()
                )
            }
            Stage::FinalReply => write!(
                f,
                "no reply from {host}:{port} {limit} after the end of the message"
            ),
            Stage::Message => write!(
                f,
                "the SMTP server {host}:{port} stopped reading the message (no progress {limit}) \
                 before its end, so it cannot have taken it{not_sent}. {}",
                match limit {
                    Limit::Step(_) => "Try again later; the server or the network is stalled",
                    Limit::Total(_) =>
                        "Raise smtp.max_time for big messages on slow links, or send a smaller \
                         message",
                }
            ),
            _ => write!(
                f,
                "the SMTP server {host}:{port} stopped answering ({}, no reply {limit}){not_sent}. \
                 Try again later, or raise {} if the server is just slow",
                stage.waiting_for(),
                limit.setting()
            ),
        },
        Error::Closed { host, stage } => {
            if *stage == Stage::FinalReply {
                write!(
                    f,
                    "the SMTP server {host} closed the connection without replying to the end of \
                     the message"
                )
            } else {
                write!(
                    f,
                    "the SMTP server {host} closed the connection ({}){not_sent}. The server may \
                     be overloaded or limit connections; try again later, and check its log",
                    stage.waiting_for()
                )
            }
        }
        Error::Io {
            host,
            stage,
            detail,
        } => {
            let outcome = if *stage == Stage::FinalReply {
                ""
            } else {
                not_sent
            };
            write!(
                f,
                "network error talking to {host} ({}): {detail}{outcome}",
                stage.waiting_for()
            )
        }
        Error::SlotsBusy { host, max, waited } => write!(
            f,
            "all {max} connections that smtp.max_connections allows to {host} were in use by \
             other PHP processes of this machine, and none came free within {:.1} s{not_sent}. \
             Raise smtp.max_connections if the provider allows more, or run fewer PHP workers",
            waited.as_secs_f64()
        ),
        Error::RateBusy {
            host,
            rate,
            interval,
            turn_in,
            could_wait,
            setting,
        } => write!(
            f,
            "smtp.max_rate ({rate}) lets one message go to {host} every {:.2} s from this \
             machine, and the turns for the next {:.1} s are taken by other sends; this call \
             could wait {:.1} s ({setting}, less the time kept for sending){not_sent}. Trying \
             again later is safe. Send fewer messages at once (spread them out, e.g. through a \
             job queue), raise {setting} so calls wait longer, or raise smtp.max_rate if the \
             provider allows more",
            interval.as_secs_f64(),
            turn_in.as_secs_f64(),
            could_wait.as_secs_f64()
        ),
        Error::ConnectionLimit { reply, host, tries } => write!(
            f,
            "{host} refuses more connections from this machine; {} (after {tries} tries){not_sent}. \
             Keep fewer connections open to it: fewer PHP workers, smtp.max_connections (at most \
             the provider's limit, e.g. 3 per mailbox for Microsoft 365), or a shorter \
             smtp.pool_idle_timeout so idle connections close sooner",
            server_said(reply)
        ),
        Error::TooBig { host, size, max } => write!(
            f,
            "the message is too big for {host}: {size} bytes, and the server takes at most {max} \
             (its EHLO SIZE){not_sent}. Send a smaller message, for example with a link instead \
             of an attachment"
        ),
        Error::NotOffered {
            host,
            extension,
            needs,
            fix,
        } => write!(
            f,
            "{host} does not offer {extension} (not in its EHLO reply), which {needs}{not_sent}. \
             {fix}"
        ),
        Error::TlsRequired { host, why, fix } => write!(
            f,
            "the message requires TLS all the way (require_tls, RFC 8689), but to {host} \
             {why}{not_sent}. {fix}"
        ),
        Error::NoTimeForMessage {
            host,
            size,
            left,
            needed,
            max_time,
        } => write!(
            f,
            "too little of smtp.max_time ({} s) was left to send the message to {host}: {size} \
             bytes need {:.1} s (its transfer at 10 MB/s, and for the server's reply one smtp.timeout, at most a \
             third of smtp.max_time), and {:.1} s were left, so the end of the message was never sent{not_sent}. \
             Trying again is safe. Raise smtp.max_time, or look at what used the time before \
             (slow connect, TLS, login, or waiting for a free connection)",
            max_time.as_secs_f64(),
            needed.as_secs_f64(),
            left.as_secs_f64()
        ),
        Error::InsecureAuth { host } => write!(
            f,
            "refusing to send the SMTP password to {host} over an unencrypted connection. Use a \
             port with TLS (587 with STARTTLS, or 465 with the ssl:// host prefix)"
        ),
        Error::AuthUnavailable {
            host,
            offered,
            tls_skipped,
        } => {
            if *tls_skipped {
                write!(
                    f,
                    "smtp.auth is on, but {host} offers no authentication before STARTTLS, and \
                     smtp.starttls=off keeps this connection unencrypted (most servers offer AUTH \
                     only after STARTTLS). Set smtp.starttls=auto (the default), or use the \
                     ssl:// host prefix on port 465"
                )
            } else if offered.is_empty() {
                write!(
                    f,
                    "smtp.auth is on, but {host} offers no authentication on this connection. \
                     Check smtp.port (submission is usually 587 or 465), or turn smtp.auth off if \
                     the server does not need a login"
                )
            } else if offered.to_ascii_uppercase().contains("XOAUTH2") {
                write!(
                    f,
                    "{host} offers no password login that smtp.auth=1 may use (it offers: \
                     {offered}). XOAUTH2 takes an OAuth 2.0 access token instead of a password: \
                     set smtp.auth=XOAUTH2 (see the README's Microsoft 365 and Google sections)"
                )
            } else {
                write!(
                    f,
                    "{host} offers no authentication method this extension supports (it offers: \
                     {offered}; supported: PLAIN, LOGIN, XOAUTH2)"
                )
            }
        }
        Error::Rejected {
            stage,
            about,
            reply,
        } => rejected(f, *stage, about, reply, whole),
        Error::Protocol { stage, detail } => {
            if *stage == Stage::Greeting {
                write!(
                    f,
                    "the SMTP server sent a greeting that is not valid SMTP: {detail}. Is this \
                     really an SMTP port? If it expects implicit TLS, use the ssl:// host prefix"
                )
            } else {
                write!(
                    f,
                    "the SMTP server sent a reply that is not valid SMTP ({}): {detail}; the \
                     connection was closed{not_sent}",
                    stage.waiting_for()
                )
            }
        }
        Error::Unknown {
            cause,
            message_id,
            delivered,
            unknown,
            undelivered,
        } => {
            write!(f, "{}", without_end(cause))?;
            write!(
                f,
                ". The server has the whole message (Message-ID {message_id}) but its final \
                 reply never came, so it may have been delivered to {}: do not send it again \
                 blindly; check the recipient's mailbox or the server's log for that Message-ID \
                 first",
                list(unknown)
            )?;
            if !delivered.is_empty() {
                write!(f, ". It was delivered to {} before", list(delivered))?;
            }
            if !undelivered.is_empty() {
                write!(f, ". It was not sent to {}", list(undelivered))?;
            }
            Ok(())
        }
        Error::Partial {
            cause,
            delivered,
            undelivered,
        } => {
            write!(
                f,
                "the message was delivered to {}, but not to {}: ",
                list(delivered),
                list(undelivered)
            )?;
            write!(f, "{}", without_end(cause))?;
            write!(f, ". Send it again only to those it did not reach")
        }
    }
}

/// A cause inside a longer sentence: its own words, without what it says about the outcome and
/// without its final period.
fn without_end(cause: &Error) -> String {
    Advice(cause)
        .to_string()
        .trim_end()
        .trim_end_matches('.')
        .to_string()
}

fn rejected(
    f: &mut fmt::Formatter<'_>,
    stage: Stage,
    about: &About,
    reply: &Reply,
    whole: bool,
) -> fmt::Result {
    let said = server_said(reply);
    let temporary = if reply.is_transient() {
        " This is a temporary failure: try again later."
    } else {
        ""
    };
    let not_sent = if whole {
        "; the message was not sent"
    } else {
        ""
    };
    let enhanced = reply.enhanced.as_deref().unwrap_or("");
    match about {
        About::Sender(addr) => write!(
            f,
            "the server refused the sender <{addr}>; {said}. Use the address of the SMTP account \
             as the From address (in MediaWiki: $wgPasswordSender), or ask the provider to allow \
             this sender{not_sent}.{temporary}"
        ),
        About::Recipient(addr) => {
            let nobody = if whole {
                "; no message was sent to any recipient"
            } else {
                ""
            };
            write!(
                f,
                "the server refused the recipient <{addr}>; {said}. Check the address{nobody}.\
                 {temporary}"
            )
        }
        About::LoginRequired => write!(
            f,
            "the server wants a login before it takes mail; {said}. Turn smtp.auth on and set \
             smtp.username and smtp.password (in MediaWiki: 'auth' => true in $wgSMTP)"
        ),
        About::Message => {
            write!(f, "the server did not accept the message; {said}.")?;
            if enhanced.ends_with(".3.4") {
                write!(f, " The message is too big for this server.")?;
            }
            write!(f, "{temporary}")
        }
        About::Quota(q) => quota_refused(f, *q, reply, &said, not_sent),
        About::Session => match stage {
            Stage::Greeting => write!(
                f,
                "the SMTP server refused the connection; {said}.{temporary}"
            ),
            Stage::Ehlo => write!(
                f,
                "the SMTP server refused our greeting (EHLO/HELO); {said}. Check smtp.localhost: \
                 some servers want a fully qualified host name"
            ),
            Stage::StartTls if reply.is_transient() => write!(
                f,
                "the SMTP server cannot start TLS right now (STARTTLS); {said}. TLS is \
                 temporarily unavailable on the server: try again later, or ask its administrator"
            ),
            Stage::StartTls => write!(
                f,
                "the SMTP server refused to start TLS (STARTTLS); {said}. Try the port for \
                 implicit TLS (465 with the ssl:// host prefix)"
            ),
            Stage::Auth => auth_refused(f, reply, &said),
            Stage::MailFrom | Stage::RcptTo | Stage::Data | Stage::Message | Stage::FinalReply => {
                write!(
                    f,
                    "the SMTP server is closing the connection ({}); {said}{not_sent}.{temporary}",
                    stage.waiting_for()
                )
            }
            _ => write!(
                f,
                "the SMTP server failed ({}); {said}",
                stage.waiting_for()
            ),
        },
    }
}

/// The provider's sending quota: whose limit it is (from the reply's own words), what it is,
/// and that sending again at once does not help.
fn quota_refused(
    f: &mut fmt::Formatter<'_>,
    q: Quota,
    reply: &Reply,
    said: &str,
    not_sent: &str,
) -> fmt::Result {
    let text = reply.text.to_ascii_lowercase();
    let limit = if text.contains("throttling failure") {
        "Amazon SES allows the sending quota and maximum send rate shown in the SES console's \
         account dashboard (sandbox: 200 messages a day, 1 a second); ask AWS for an increase \
         there"
    } else if text.contains("storedrv") || text.contains("submission rate") {
        "Exchange Online allows a mailbox 30 messages a minute and 10,000 recipients a day \
         (Microsoft's \"Exchange Online limits\" page)"
    } else if reply.enhanced.as_deref() == Some("5.4.5") || text.contains("gmail") {
        "Gmail allows 500 messages a day for a personal account and 2,000 for Google Workspace \
         (Google's \"Gmail sending limits in Google Workspace\" page)"
    } else {
        "the provider's documentation gives its limits"
    };
    match q {
        Quota::Rate => write!(
            f,
            "the SMTP server refused to take more mail this fast from this account: sending \
             too fast for the provider's rate limit; {said}{not_sent}. {limit}. Sending it \
             again at once meets the same refusal: send more slowly (fewer mails at once, \
             spread over time) and keep all the PHP processes together below that limit with \
             smtp.max_rate in php.ini, e.g. 30/min for Exchange Online (README: \"Tuning for \
             providers\"); sending again later is safe"
        ),
        Quota::Day => write!(
            f,
            "the provider's sending quota for this account is used up for now (a daily or \
             per-account limit); {said}{not_sent}. {limit}. Trying again now will not help: no \
             more mail goes out through this account until the provider's window resets (up to \
             24 hours); send less, or raise the quota with the provider (README: \"Tuning for \
             providers\")"
        ),
    }
}

/// The server refused an OAuth token that the provider had just issued.
fn token_refused(
    f: &mut fmt::Formatter<'_>,
    provider: crate::oauth::Provider,
    user: &str,
    reply: &Reply,
) -> fmt::Result {
    use crate::oauth::Provider;
    let said = server_said(reply);
    match provider {
        Provider::Microsoft => write!(
            f,
            "Microsoft 365 refused the OAuth token for {user} (the token itself is fine: it was \
             just issued); {said}. One of three things is missing: SMTP AUTH is off for the \
             mailbox (Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false); \
             the app has no service principal in Exchange or no SMTP.SendAsApp permission with \
             admin consent (New-ServicePrincipal); or that service principal has no permission \
             on the mailbox (Add-MailboxPermission -Identity {user} -User <service principal id> \
             -AccessRights FullAccess). See the README section \"Microsoft 365\""
        ),
        Provider::Google => write!(
            f,
            "Google refused the OAuth token for {user}; {said}. Check that the service \
             account's domain-wide delegation includes the scope https://mail.google.com/ and \
             that {user} is a user of the Workspace domain (smtp.username). See the README \
             section \"Google Workspace\""
        ),
        Provider::MicrosoftDelegated => write!(
            f,
            "Microsoft refused the OAuth token for {user} (the token itself is fine: it was \
             just issued for the account that signed in); {said}. Either the account that \
             signed in (smtp-doctor oauth-login) is not {user}: sign in as that mailbox, or set \
             smtp.username to the account; or SMTP AUTH is off for the mailbox \
             (Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false); or the \
             app registration lacks the delegated permission SMTP.Send. See the README section \
             \"Microsoft 365\""
        ),
        Provider::GoogleUser => write!(
            f,
            "Google refused the OAuth token for {user}; {said}. The account that signed in \
             (smtp-doctor oauth-login) must be {user} (smtp.username), with the scope \
             https://mail.google.com/. See the README section \"Google Workspace\""
        ),
        Provider::Generic => write!(
            f,
            "the server refused the OAuth token for {user} that the token endpoint had just \
             issued; {said}. Check the scope (smtp.oauth_scope) and what the client may do on \
             the mail server"
        ),
    }
}

fn auth_refused(f: &mut fmt::Formatter<'_>, reply: &Reply, said: &str) -> fmt::Result {
    let enhanced = reply.enhanced.as_deref().unwrap_or("");
    let text = reply.text.to_ascii_lowercase();
    if enhanced == "5.7.30" || text.contains("basic authentication is not supported") {
        return write!(
            f,
            "Microsoft 365 no longer accepts a password for SMTP (Basic authentication); {said}. \
             Switch to OAuth 2.0: smtp.auth=XOAUTH2 with smtp.oauth_provider=microsoft (see the \
             README section \"Microsoft 365\")"
        );
    }
    if enhanced == "5.7.9" || text.contains("application-specific password") {
        return write!(
            f,
            "authentication failed; {said}. Google wants an app password (which needs 2-Step \
             Verification) or OAuth 2.0 (smtp.auth=XOAUTH2 with smtp.oauth_provider=google), not \
             the account password"
        );
    }
    write!(
        f,
        "authentication failed; {said}. Check smtp.username and smtp.password (many providers \
         require an app password or an API key instead of the account password)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rejected(stage: Stage, about: About, code: u16, text: &str) -> Error {
        Error::Rejected {
            stage,
            about,
            reply: Reply {
                code,
                enhanced: text.split_whitespace().next().map(String::from),
                text: text.into(),
            },
        }
    }

    #[test]
    fn refused_sender_names_the_cause_the_reply_and_the_fix() {
        let e = rejected(
            Stage::RcptTo,
            About::Sender("wiki@example.org".into()),
            553,
            "5.7.1 <wiki@example.org>: Sender address rejected: not owned by user x",
        );
        let msg = e.to_string();
        assert!(
            msg.contains("refused the sender <wiki@example.org>"),
            "{msg}"
        );
        assert!(
            msg.contains("\"553 5.7.1 <wiki@example.org>: Sender"),
            "{msg}"
        );
        assert!(msg.contains("$wgPasswordSender"), "{msg}");
        assert!(!msg.contains("Check the address"), "{msg}");
        assert_eq!(e.smtp_code(), 553);
    }

    #[test]
    fn timeouts_name_the_limit_that_ran_out() {
        let e = Error::Timeout {
            host: "mail.example.org".into(),
            port: 25,
            stage: Stage::Greeting,
            limit: Limit::Step(Duration::from_secs(2)),
        };
        let msg = e.to_string();
        assert!(msg.contains("within 2 s (smtp.timeout)"), "{msg}");
        assert!(msg.contains("587") && msg.contains("465"), "{msg}");
        let e = Error::Timeout {
            host: "h".into(),
            port: 25,
            stage: Stage::RcptTo,
            limit: Limit::Total(Duration::from_secs(30)),
        };
        assert!(e.to_string().contains("smtp.max_time = 30 s"), "{e}");
    }

    #[test]
    fn unknown_never_says_not_sent() {
        let e = Error::Unknown {
            cause: Box::new(Error::Closed {
                host: "h".into(),
                stage: Stage::FinalReply,
            }),
            message_id: "<1@x>".into(),
            delivered: vec![],
            unknown: vec!["a@x.test".into()],
            undelivered: vec![],
        };
        let msg = e.to_string();
        assert!(!msg.contains("not sent"), "{msg}");
        assert!(
            msg.contains("may have been delivered to <a@x.test>"),
            "{msg}"
        );
        assert!(msg.contains("do not send it again blindly"), "{msg}");
    }

    #[test]
    fn partial_lists_who_got_it_and_who_did_not() {
        let e = Error::Partial {
            cause: Box::new(rejected(
                Stage::RcptTo,
                About::Recipient("c@x.test".into()),
                550,
                "5.1.1 unknown",
            )),
            delivered: vec!["a@x.test".into(), "b@x.test".into()],
            undelivered: vec!["c@x.test".into()],
        };
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "the message was delivered to <a@x.test>, <b@x.test>, but not to <c@x.test>"
            ),
            "{msg}"
        );
        assert!(!msg.contains("no message was sent"), "{msg}");
        assert_eq!(e.smtp_code(), 550);
    }

    #[test]
    fn quota_refusals_name_the_provider_limit_and_say_not_retried() {
        let e = rejected(
            Stage::MailFrom,
            About::Quota(Quota::Rate),
            454,
            "Throttling failure: Maximum sending rate exceeded.",
        );
        let msg = e.to_string();
        for w in [
            "too fast",
            "\"454 Throttling failure: Maximum sending rate exceeded.\"",
            "Amazon SES",
            "not sent",
            "again at once",
            "smtp.max_rate",
            "Tuning for providers",
        ] {
            assert!(msg.contains(w), "{w:?} in {msg}");
        }
        let e = rejected(
            Stage::FinalReply,
            About::Quota(Quota::Day),
            550,
            "5.4.5 Daily user sending limit exceeded.",
        );
        let msg = e.to_string();
        for w in ["used up", "Gmail allows 500", "24 hours", "not sent"] {
            assert!(msg.contains(w), "{w:?} in {msg}");
        }
        assert!(!msg.contains("temporary failure"), "{msg}");
    }

    #[test]
    fn long_lists_are_cut() {
        let many: Vec<String> = (0..25).map(|i| format!("u{i}@x.test")).collect();
        assert!(list(&many).ends_with("and 15 more"));
    }
}
