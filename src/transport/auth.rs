//! AUTH: PLAIN, LOGIN and XOAUTH2, with the initial response in the AUTH command whenever the
//! command line stays within SMTP's 512 octets (one round trip), else as a continuation line
//! (Microsoft's OAuth tokens are over 2 KB).

use lettre::transport::smtp::authentication::{Credentials, Mechanism};

use super::{Budget, Connection};
use crate::config::{AuthMode, Settings};
use crate::encode::{base64, base64_decode};
use crate::error::{Error, NetError, Result, Stage, TlsProblem};
use crate::oauth::{Limits, OAuthSettings, Token};

/// RFC 5321 4.5.3.1.4: a command line is at most 512 octets, CRLF included.
const MAX_COMMAND_LINE: usize = 512;

impl Connection {
    /// AUTH when the settings ask for it.
    pub fn login(&mut self, s: &Settings, budget: &Budget) -> Result<()> {
        if s.auth == AuthMode::Off {
            return Ok(());
        }
        let mechanism = self.mechanism(s)?;
        if let (Mechanism::Xoauth2, Some(oauth)) = (mechanism, &s.oauth) {
            return self.login_with_token(s, oauth, budget);
        }
        self.authenticate(mechanism, &s.username, s.password.expose(), budget)
    }

    /// XOAUTH2 with a token from the provider: from the cache when it has one; when the server
    /// refuses a cached token (revoked, expired early), one new token and one more try. A
    /// token fetched during this call is never renewed: its refusal is about permissions.
    fn login_with_token(
        &mut self,
        s: &Settings,
        oauth: &OAuthSettings,
        budget: &Budget,
    ) -> Result<()> {
        let token = self.token(oauth, budget, false)?;
        let refused = match self.authenticate(
            Mechanism::Xoauth2,
            &s.username,
            token.access_token.expose(),
            budget,
        ) {
            Ok(()) => return Ok(()),
            Err(Error::Rejected {
                stage: Stage::Auth,
                reply,
                ..
            }) if self.in_step => reply,
            Err(e) => return Err(e),
        };
        if token.fresh {
            return Err(Error::TokenRefused {
                provider: oauth.provider,
                user: s.username.clone(),
                reply: refused,
            });
        }
        self.wire(format_args!(
            "the server refused the token from the cache ({refused}); fetching a new one"
        ));
        let token = self.token(oauth, budget, true)?;
        self.authenticate(
            Mechanism::Xoauth2,
            &s.username,
            token.access_token.expose(),
            budget,
        )
        .map_err(|e| match e {
            Error::Rejected {
                stage: Stage::Auth,
                reply,
                ..
            } => Error::TokenRefused {
                provider: oauth.provider,
                user: s.username.clone(),
                reply,
            },
            e => e,
        })
    }

    fn token(&self, oauth: &OAuthSettings, budget: &Budget, renew: bool) -> Result<Token> {
        let limits = Limits {
            step: budget.step_length(),
            until: budget.end(),
        };
        let token = crate::oauth::token(oauth, limits, renew).map_err(Error::Token)?;
        // "token from cache, expires in N s" / "fetched a new token": never the token.
        self.wire(format_args!("XOAUTH2: {token}"));
        Ok(token)
    }

    /// The mechanism to use, after checking that a password may go out on this connection.
    fn mechanism(&self, s: &Settings) -> Result<Mechanism> {
        if !self.is_tls() && !s.host_is_loopback() {
            if !self.caps.starttls {
                return Err(Error::Network(NetError::Tls {
                    host: s.host.clone(),
                    problem: TlsProblem::NotOffered,
                }));
            }
            return Err(Error::InsecureAuth {
                host: s.host.clone(),
            });
        }
        let unavailable = || Error::AuthUnavailable {
            host: s.host.clone(),
            offered: self.caps.auth_offered.clone(),
            tls_skipped: !self.is_tls() && self.caps.starttls,
        };
        if self.caps.auth_offered.is_empty() {
            return Err(unavailable());
        }
        match s.auth {
            AuthMode::Only(m) => Ok(m),
            // XOAUTH2 with the administrator's OAuth settings, when the server offers it.
            AuthMode::Auto
                if s.oauth.is_some()
                    && self.caps.info.supports_auth_mechanism(Mechanism::Xoauth2) =>
            {
                Ok(Mechanism::Xoauth2)
            }
            // XOAUTH2 takes a token, not a password: never chosen on its own.
            AuthMode::Auto | AuthMode::Off => self
                .caps
                .info
                .get_auth_mechanism(&[Mechanism::Plain, Mechanism::Login])
                .ok_or_else(unavailable),
        }
    }

    fn authenticate(
        &mut self,
        mechanism: Mechanism,
        user: &str,
        secret: &str,
        budget: &Budget,
    ) -> Result<()> {
        self.in_step = false;
        let creds = Credentials::new(user.to_string(), secret.to_string());
        let protocol = |detail: String| Error::Protocol {
            stage: Stage::Auth,
            detail,
        };
        let name = mechanism.to_string();
        let mut pending_initial = None;
        if mechanism.supports_initial_response() {
            let response = mechanism
                .response(&creds, None)
                .map_err(|e| protocol(e.to_string()))?;
            let encoded = base64(response.as_bytes());
            let line = format!("AUTH {name} {encoded}\r\n");
            if line.len() <= MAX_COMMAND_LINE {
                self.send_secret(&line, budget)?;
            } else {
                self.send_command(&format!("AUTH {name}\r\n"), Stage::Auth, budget)?;
                pending_initial = Some(encoded);
            }
        } else {
            self.send_command(&format!("AUTH {name}\r\n"), Stage::Auth, budget)?;
        }
        let (mut reply, _) = self.read_response(Stage::Auth, budget.step())?;
        // LOGIN asks for the user name and the password; a long initial response goes after an
        // empty 334; XOAUTH2 answers a failure with a 334 JSON challenge that wants an empty
        // line before the final 535.
        for _ in 0..3 {
            if reply.code != 334 {
                break;
            }
            let next = if let Some(initial) = pending_initial.take() {
                format!("{initial}\r\n")
            } else if mechanism == Mechanism::Xoauth2 {
                "\r\n".to_string()
            } else {
                let challenge = reply.text.split_whitespace().next().unwrap_or("");
                let decoded = base64_decode(challenge)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let answer = mechanism
                    .response(&creds, Some(&decoded))
                    .map_err(|e| protocol(format!("{e} (challenge \"{decoded}\")")))?;
                format!("{}\r\n", base64(answer.as_bytes()))
            };
            self.send_secret(&next, budget)?;
            (reply, _) = self.read_response(Stage::Auth, budget.step())?;
        }
        if reply.code == 334 {
            // Still asking after three answers: we cannot finish the exchange cleanly.
            return Err(protocol(format!(
                "the server kept asking for more authentication data (\"{reply}\")"
            )));
        }
        if reply.code != 235 {
            let e = self.refused(Stage::Auth, reply.clone(), "", None);
            self.settle(&reply);
            return Err(e);
        }
        self.settle(&reply);
        Ok(())
    }
}
