//! What a message asks of the server beyond plain SMTP, checked before anything of it is sent:
//! a message that needs an extension the server lacks fails here, unsent.

use super::Connection;
use crate::error::{Error, Result};
use crate::message::Prepared;

impl Connection {
    /// DSN: sent only to a server that offers it; without, the message goes without its DSN
    /// parameters (logged), unless the caller said `required`.
    pub(super) fn check_needs(&self, msg: &Prepared) -> Result<()> {
        if msg.require_tls {
            self.check_require_tls()?;
        }
        if msg.smtputf8 && !self.caps.smtputf8 {
            let addr = std::iter::once(&msg.from)
                .chain(&msg.rcpts)
                .find(|a| !a.is_ascii())
                .map_or_else(
                    || "an address in the headers".to_string(),
                    |a| format!("\"{a}\""),
                );
            return Err(Error::NotOffered {
                host: self.host.clone(),
                extension: "SMTPUTF8",
                needs: format!(
                    "{addr} needs: its part before the @ is not ASCII, and only a server with \
                     SMTPUTF8 (RFC 6531) takes such an address"
                ),
                fix: "Send through a server that offers SMTPUTF8 (Postfix 3, Gmail, Microsoft \
                      365), or use an ASCII address for this recipient"
                    .into(),
            });
        }
        if msg.dsn.is_asked() && !self.caps.dsn {
            if msg.dsn.required {
                return Err(Error::NotOffered {
                    host: self.host.clone(),
                    extension: "DSN",
                    needs: "the message requires for its delivery status notification \
                            options (dsn required)"
                        .into(),
                    fix: "Send through a server that offers DSN (RFC 3461), or drop \
                          'required' to send without the notification options"
                        .into(),
                });
            }
            log::debug!(
                "{} does not offer DSN: message {} goes without its NOTIFY/RET/ENVID options",
                self.host,
                msg.message_id
            );
        }
        Ok(())
    }

    /// REQUIRETLS (RFC 8689 section 4.1): the next hop must be reached over TLS with a
    /// verified certificate and must offer REQUIRETLS; each unmet condition is named.
    fn check_require_tls(&self) -> Result<()> {
        let unmet = if !self.is_tls() {
            Some((
                "the connection is not encrypted",
                "Use a server with STARTTLS (smtp.starttls=auto or required) or implicit TLS \
                 (ssl://)",
            ))
        } else if !self.tls_verified {
            Some((
                "the server's certificate is not checked (smtp.verify_peer=0)",
                "Turn smtp.verify_peer back on (with smtp.cafile for a private CA)",
            ))
        } else {
            None
        };
        if let Some((why, fix)) = unmet {
            return Err(Error::TlsRequired {
                host: self.host.clone(),
                why: why.into(),
                fix: fix.into(),
            });
        }
        if !self.caps.requiretls {
            return Err(Error::NotOffered {
                host: self.host.clone(),
                extension: "REQUIRETLS",
                needs: "the message requires (require_tls, RFC 8689)".into(),
                fix: "Send through a server that offers REQUIRETLS, or send without \
                      require_tls"
                    .into(),
            });
        }
        Ok(())
    }
}
