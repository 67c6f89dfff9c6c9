//! Why a token could not be had, in plain words with the fix. Secrets, tokens and assertions
//! never go into these values; the endpoint's own `error_description` (first line) does, since
//! it names the cause (it holds ids and codes, never the secret).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::net::NetError;
use crate::tls::TlsProblem;

/// One wait of a token request; each is bounded by `Limits::step` and by `Limits::until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Resolve,
    Connect,
    TlsHandshake,
    /// Writing the request.
    Request,
    /// Waiting for the whole response (head and body).
    Response,
}

impl Step {
    fn doing(self) -> &'static str {
        match self {
            Step::Resolve => "looking up the host name",
            Step::Connect => "connecting",
            Step::TlsHandshake => "during the TLS handshake",
            Step::Request => "sending the request",
            Step::Response => "waiting for the response",
        }
    }
}

/// What the token endpoint's `error` / `error_description` means for the admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// AADSTS7000215, or `invalid_client` from a client-credentials endpoint.
    WrongSecret,
    /// AADSTS7000222.
    ExpiredSecret,
    /// AADSTS700016.
    UnknownClient,
    /// AADSTS90002.
    UnknownTenant,
    /// `invalid_scope`.
    InvalidScope,
    /// Google `unauthorized_client`: domain-wide delegation is missing for the scope.
    DelegationMissing,
    /// Google `invalid_grant` about the signature: the key was deleted or is not this account's.
    BadKey,
    /// Google `invalid_grant` about the user (`sub`).
    UnknownUser,
    /// Google `invalid_grant` about `iat`/`exp`: this machine's clock is off.
    ClockSkew,
    /// `invalid_grant` that says nothing more precise.
    InvalidGrant,
    /// A delegated provider's refresh token expired or was revoked: the user must sign in.
    SignInAgain,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    /// A setting is missing or unusable (the text names it).
    Config(String),
    /// The Google service-account key file cannot be read or used. `problem` never holds any
    /// of the file's content.
    KeyFile { path: PathBuf, problem: String },
    /// The network floor failed before the request: no address, nothing listening, no route,
    /// or TLS refused. The one network failure type, shared with the SMTP transport; a wait
    /// that ran out and a failure on the open connection are `Timeout` and `Io`, which name the
    /// request's step.
    Network(NetError),
    /// A step took longer than `Limits::step` (`overall == false`, `after` is that limit) or
    /// the call reached `Limits::until` (`overall == true`, `after` is how long the call ran).
    Timeout {
        host: String,
        port: u16,
        step: Step,
        after: Duration,
        overall: bool,
    },
    Io {
        host: String,
        step: Step,
        detail: String,
    },
    /// The endpoint answered with an OAuth error (`error`, `error_description`).
    Endpoint {
        /// The token URL without its query.
        url: String,
        status: u16,
        error: String,
        /// First line of `error_description`, trimmed.
        description: Option<String>,
        refusal: Refusal,
    },
    /// An HTTP error status without an OAuth error body.
    Http {
        url: String,
        status: u16,
        reason: String,
    },
    /// A success status, but no usable token in the body.
    BadResponse { url: String, detail: String },
}

impl OAuthError {
    /// The network floor's failure at `step` of a token request; `timeout` reports a wait that
    /// ran out (it knows which of the request's limits it was).
    pub(crate) fn from_net(
        e: NetError,
        step: Step,
        timeout: impl FnOnce(Step) -> OAuthError,
    ) -> OAuthError {
        match e {
            NetError::Timeout { .. } => timeout(step),
            NetError::Io { host, detail } => OAuthError::Io { host, step, detail },
            other => OAuthError::Network(other),
        }
    }

    /// True when trying again later may work without changing any setting (network trouble,
    /// timeouts, 5xx, 429).
    pub fn temporary(&self) -> bool {
        match self {
            OAuthError::Network(net) => !matches!(net, NetError::Tls { .. }),
            OAuthError::Timeout { .. } | OAuthError::Io { .. } => true,
            OAuthError::Http { status, .. } | OAuthError::Endpoint { status, .. } => {
                *status >= 500 || *status == 429
            }
            _ => false,
        }
    }
}

const TOKEN_URL_HINT: &str = "Check smtp.oauth_token_url (or, for Microsoft, \
smtp.oauth_tenant), and that this machine may make outgoing HTTPS connections to it";

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OAuthError::Config(msg) => write!(f, "OAuth settings: {msg}"),
            OAuthError::KeyFile { path, problem } => write!(
                f,
                "the Google service-account key file \"{}\" {problem}. Set smtp.oauth_key_file to \
                 the JSON key downloaded for the service account (Google Cloud console: IAM & \
                 Admin > Service accounts > Keys > Add key > JSON), readable by the PHP user",
                path.display()
            ),
            OAuthError::Network(NetError::Resolve { host, detail }) => write!(
                f,
                "cannot resolve the token endpoint's host name \"{host}\" ({detail}). Check \
                 the host in smtp.oauth_token_url (if set) and that this machine's DNS works"
            ),
            OAuthError::Network(NetError::Refused { host, port }) => write!(
                f,
                "connection to the token endpoint {host}:{port} refused. {TOKEN_URL_HINT}"
            ),
            OAuthError::Network(NetError::Connect { host, port, detail }) => write!(
                f,
                "cannot connect to the token endpoint {host}:{port} ({detail}). {TOKEN_URL_HINT}; \
                 a firewall may block it"
            ),
            OAuthError::Timeout {
                host,
                port,
                step,
                after,
                overall,
            } => {
                let secs = seconds(*after);
                if *overall {
                    write!(
                        f,
                        "no OAuth token from {host}:{port}: the send's time limit \
                         (smtp.max_time) was reached {}, {secs} s into the token request. Try \
                         again later, or raise smtp.max_time",
                        step.doing()
                    )
                } else {
                    write!(
                        f,
                        "no OAuth token from {host}:{port}: no progress within {secs} s ({}). \
                         {TOKEN_URL_HINT}; if the endpoint is just slow, raise smtp.timeout",
                        step.doing()
                    )
                }
            }
            OAuthError::Network(NetError::Tls { host, problem }) => match problem {
                TlsProblem::NameMismatch(names) => {
                    write!(
                        f,
                        "the TLS certificate of the token endpoint is not valid for \"{host}\""
                    )?;
                    if names.is_empty() {
                        write!(f, ". Check the host in smtp.oauth_token_url")
                    } else {
                        write!(
                            f,
                            "; it is valid for: {}. Check the host in smtp.oauth_token_url",
                            names.join(", ")
                        )
                    }
                }
                // The same words as for the SMTP server's certificate, naming the endpoint.
                other => write!(f, "{}", other.words(&format!("the token endpoint {host}"))),
            },
            OAuthError::Io { host, step, detail } => write!(
                f,
                "network error talking to the token endpoint {host} ({}): {detail}. Try again \
                 later",
                step.doing()
            ),
            // Timeouts and failures on an open connection come as Timeout and Io, with their
            // step; the network floor's own words otherwise.
            OAuthError::Network(other) => write!(f, "{other}"),
            OAuthError::Endpoint {
                url,
                status,
                error,
                description,
                refusal,
            } => {
                write!(
                    f,
                    "the token endpoint {url} refused (HTTP {status}, {error}"
                )?;
                if let Some(d) = description {
                    write!(f, ": \"{d}\"")?;
                }
                f.write_str("). ")?;
                f.write_str(refusal.fix())
            }
            OAuthError::Http {
                url,
                status,
                reason,
            } => {
                write!(f, "the token endpoint {url} answered HTTP {status}")?;
                if !reason.is_empty() {
                    write!(f, " {reason}")?;
                }
                if *status >= 500 || *status == 429 {
                    write!(
                        f,
                        ", without an OAuth error: a temporary failure, try again later"
                    )
                } else {
                    write!(
                        f,
                        ", without an OAuth error: this is not a token endpoint. {TOKEN_URL_HINT}"
                    )
                }
            }
            OAuthError::BadResponse { url, detail } => write!(
                f,
                "the token endpoint {url} answered, but {detail}. Check that \
                 smtp.oauth_token_url is an OAuth 2.0 token endpoint"
            ),
        }
    }
}

impl std::error::Error for OAuthError {}

/// "2", "1.5", "0.1": tenths are enough for a person.
fn seconds(d: Duration) -> String {
    let s = format!("{:.1}", d.as_secs_f64());
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

impl Refusal {
    /// Reads the endpoint's words. Microsoft puts an `AADSTS<n>` code first in the description
    /// (and in `error_codes`); Google uses only `error` and a short description.
    pub(crate) fn classify(error: &str, description: &str, codes: &[u64]) -> Refusal {
        let has = |code: u64| {
            codes.contains(&code)
                || description
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w.strip_prefix("AADSTS") == Some(&code.to_string()))
        };
        let d = description.to_ascii_lowercase();
        if has(7000215) {
            Refusal::WrongSecret
        } else if has(7000222) {
            Refusal::ExpiredSecret
        } else if has(700016) {
            Refusal::UnknownClient
        } else if has(90002) {
            Refusal::UnknownTenant
        } else if error == "invalid_scope" || has(70011) || has(1002012) {
            Refusal::InvalidScope
        } else if error == "unauthorized_client" {
            Refusal::DelegationMissing
        } else if error == "invalid_grant" {
            if d.contains("signature") {
                Refusal::BadKey
            } else if d.contains("email") || d.contains("user id") || d.contains("account") {
                Refusal::UnknownUser
            } else if d.contains("iat") || d.contains("exp") || d.contains("timeframe") {
                Refusal::ClockSkew
            } else {
                Refusal::InvalidGrant
            }
        } else if error == "invalid_client" {
            Refusal::WrongSecret
        } else {
            Refusal::Other
        }
    }

    fn fix(self) -> &'static str {
        match self {
            Refusal::WrongSecret => {
                "The client secret is wrong: set smtp.oauth_client_secret to the secret's Value \
                 (shown once, when it was created under Certificates & secrets), not its Secret \
                 ID, and check smtp.oauth_client_id. A secret with ~ or other special characters \
                 must be in double quotes in php.ini, or put it in smtp.oauth_client_secret_file"
            }
            Refusal::ExpiredSecret => {
                "The client secret has expired: add a new one under the app registration's \
                 Certificates & secrets and put its Value in smtp.oauth_client_secret (or \
                 smtp.oauth_client_secret_file)"
            }
            Refusal::UnknownClient => {
                "No application with this client id in this tenant: set smtp.oauth_client_id to \
                 the Application (client) ID from the app registration's Overview, and \
                 smtp.oauth_tenant to the tenant the app is registered in"
            }
            Refusal::UnknownTenant => {
                "The tenant does not exist: set smtp.oauth_tenant to the Directory (tenant) ID \
                 from the app registration's Overview, or to a verified domain of the tenant"
            }
            Refusal::InvalidScope => {
                "The scope is not valid for this client: leave smtp.oauth_scope empty for the \
                 provider's default (Microsoft: https://outlook.office365.com/.default, Google: \
                 https://mail.google.com/); client-credentials scopes end in /.default"
            }
            Refusal::DelegationMissing => {
                "The service account may not act for users with this scope: in the Google \
                 Workspace Admin console (Security > Access and data control > API controls > \
                 Domain-wide delegation) add the service account's client ID with the scope \
                 https://mail.google.com/ (changes can take a while to apply)"
            }
            Refusal::BadKey => {
                "The assertion's signature was not accepted: the key in smtp.oauth_key_file was \
                 deleted or belongs to another service account. Create a new JSON key for the \
                 service account and point smtp.oauth_key_file at it"
            }
            Refusal::UnknownUser => {
                "The mailbox to act for is unknown: smtp.username must be an existing user of \
                 the Google Workspace domain that delegated access to the service account"
            }
            Refusal::ClockSkew => {
                "The assertion's time was refused: this machine's clock is off. Synchronise it \
                 (NTP, e.g. systemd-timesyncd or chrony)"
            }
            Refusal::InvalidGrant => {
                "The grant was refused. Likely causes: the key in smtp.oauth_key_file was \
                 deleted or is not this service account's (create a new JSON key), smtp.username \
                 is not a user of the delegating Workspace domain, or this machine's clock is off"
            }
            Refusal::SignInAgain => {
                "The refresh token in smtp.oauth_refresh_token_file has expired or was revoked \
                 (a password change, a revoked consent, or 90 days unused). Sign in again as the \
                 mailbox: smtp-doctor oauth-login (see the README's Microsoft 365 or Google \
                 section); it rewrites that file"
            }
            Refusal::Other => {
                "Check the smtp.oauth_* settings (client id, secret, tenant, scope) against the \
                 provider's app registration"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(error: &str, description: &str, codes: &[u64]) -> OAuthError {
        OAuthError::Endpoint {
            url: "https://login.example/t/oauth2/v2.0/token".into(),
            status: 401,
            error: error.into(),
            description: Some(description.into()),
            refusal: Refusal::classify(error, description, codes),
        }
    }

    #[test]
    fn microsoft_codes_from_the_description_or_the_code_list() {
        let c = |d: &str, codes: &[u64]| Refusal::classify("invalid_client", d, codes);
        assert_eq!(
            c("AADSTS7000215: Invalid client secret.", &[]),
            Refusal::WrongSecret
        );
        assert_eq!(c("something", &[7000222]), Refusal::ExpiredSecret);
        assert_eq!(
            Refusal::classify("unauthorized_client", "AADSTS700016: App not found", &[]),
            Refusal::UnknownClient
        );
        assert_eq!(
            Refusal::classify("invalid_request", "AADSTS90002: Tenant 'x' not found.", &[]),
            Refusal::UnknownTenant
        );
        // A longer code that merely starts with a known one is not that one.
        assert_eq!(
            Refusal::classify("invalid_request", "AADSTS900021: other", &[]),
            Refusal::Other
        );
        assert_eq!(
            Refusal::classify("invalid_scope", "AADSTS1002012: bad scope", &[]),
            Refusal::InvalidScope
        );
    }

    #[test]
    fn google_errors_by_their_words() {
        assert_eq!(
            Refusal::classify("unauthorized_client", "Client is unauthorized", &[]),
            Refusal::DelegationMissing
        );
        let g = |d: &str| Refusal::classify("invalid_grant", d, &[]);
        assert_eq!(g("Invalid JWT Signature."), Refusal::BadKey);
        assert_eq!(g("Invalid email or User ID"), Refusal::UnknownUser);
        assert_eq!(
            g("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"),
            Refusal::ClockSkew
        );
        assert_eq!(g(""), Refusal::InvalidGrant);
    }

    #[test]
    fn messages_quote_the_endpoint_and_give_the_fix() {
        let m = endpoint(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
            &[7000215],
        )
        .to_string();
        assert!(
            m.contains("\"AADSTS7000215: Invalid client secret provided.\""),
            "{m}"
        );
        assert!(m.contains("smtp.oauth_client_secret"), "{m}");
        assert!(m.contains("double quotes"), "{m}");
        let m = endpoint("unauthorized_client", "Client is unauthorized.", &[]).to_string();
        assert!(m.contains("Domain-wide delegation"), "{m}");
        let m = endpoint("invalid_grant", "Invalid JWT Signature.", &[]).to_string();
        assert!(m.contains("smtp.oauth_key_file"), "{m}");
    }

    #[test]
    fn timeouts_say_which_limit() {
        let t = |overall| OAuthError::Timeout {
            host: "login.example".into(),
            port: 443,
            step: Step::Response,
            after: Duration::from_millis(1500),
            overall,
        };
        let m = t(false).to_string();
        assert!(
            m.contains("1.5 s") && m.contains("smtp.timeout") && m.contains("response"),
            "{m}"
        );
        assert_eq!(seconds(Duration::from_secs(2)), "2");
        assert_eq!(seconds(Duration::from_nanos(1_205_449_633)), "1.2");
        assert!(t(true).to_string().contains("smtp.max_time"));
        assert!(t(true).temporary());
    }

    #[test]
    fn http_errors_tell_temporary_from_wrong_url() {
        let h = |status| OAuthError::Http {
            url: "https://x/token".into(),
            status,
            reason: String::new(),
        };
        assert!(h(503).to_string().contains("try again later"));
        assert!(h(503).temporary());
        assert!(h(404).to_string().contains("not a token endpoint"));
        assert!(!h(404).temporary());
    }
}
