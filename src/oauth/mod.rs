//! OAuth 2.0 access tokens for XOAUTH2: fetched from the provider's token endpoint, cached per
//! process, renewed on demand. Plain Rust, no PHP and no SMTP: the caller resolves the settings
//! (secrets from value, file or environment) and decides when a refused token is renewed.
//!
//! - Microsoft: client-credentials grant against
//!   `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`.
//! - Google: a service account's JSON key signs a JWT assertion (JWT bearer grant, RFC 7523)
//!   for the mailbox to act for (domain-wide delegation).
//! - Generic: client-credentials grant against `token_url`.
//! - Microsoft delegated and Google user: a refresh token that a person got by signing in once
//!   (`smtp-doctor oauth-login`), kept in an administrator's file and written back when the
//!   endpoint rotates it (see `refresh`).
//!
//! Tokens, secrets and assertions never reach a log line or an error message.

mod error;
mod google;
mod http;
pub mod login;
mod refresh;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use serde_json::Value;

pub use self::error::{OAuthError, Refusal, Step};
use self::google::ServiceAccount;
use self::http::Url;
use crate::secret::Secret;

/// Log target of the few lines this module writes ("token from cache, expires in N s").
pub const LOG_TARGET: &str = "smtp::oauth";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Microsoft,
    Google,
    Generic,
    /// Microsoft identity platform, delegated: a signed-in mailbox's refresh token.
    MicrosoftDelegated,
    /// Google, a signed-in user's refresh token (installed-app client).
    GoogleUser,
}

impl Provider {
    /// `microsoft`, `google` or `generic`, as in `smtp.oauth_provider` (case-insensitive).
    pub fn parse(s: &str) -> Option<Provider> {
        match s.trim().to_ascii_lowercase().as_str() {
            "microsoft" => Some(Provider::Microsoft),
            "google" => Some(Provider::Google),
            "generic" => Some(Provider::Generic),
            "microsoft-delegated" => Some(Provider::MicrosoftDelegated),
            "google-user" => Some(Provider::GoogleUser),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Microsoft => "microsoft",
            Provider::Google => "google",
            Provider::Generic => "generic",
            Provider::MicrosoftDelegated => "microsoft-delegated",
            Provider::GoogleUser => "google-user",
        }
    }

    /// The scope asked for when `OAuthSettings::scope` is `None`.
    pub fn default_scope(self) -> Option<&'static str> {
        match self {
            Provider::Microsoft => Some("https://outlook.office365.com/.default"),
            Provider::Google => Some("https://mail.google.com/"),
            Provider::Generic => None,
            Provider::MicrosoftDelegated => Some(MS_DELEGATED_SCOPE),
            Provider::GoogleUser => Some("https://mail.google.com/"),
        }
    }

    /// Tokens from a signed-in user's refresh token (`smtp.oauth_refresh_token_file`).
    pub fn delegated(self) -> bool {
        matches!(self, Provider::MicrosoftDelegated | Provider::GoogleUser)
    }
}

/// SMTP for a signed-in mailbox, and a refresh token with it.
pub const MS_DELEGATED_SCOPE: &str = "https://outlook.office.com/SMTP.Send offline_access";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthSettings {
    pub provider: Provider,
    /// Microsoft: tenant id or domain (not needed when `token_url` is set).
    pub tenant: String,
    /// Overrides the provider's token endpoint; required for `Generic`.
    pub token_url: Option<String>,
    /// Microsoft and generic: the application (client) id.
    pub client_id: String,
    /// Microsoft and generic: already resolved from value, file or environment.
    pub client_secret: Secret,
    /// `None`: the provider's default scope.
    pub scope: Option<String>,
    /// Google: the service account's JSON key file.
    pub key_file: Option<PathBuf>,
    /// The mailbox; for Google the JWT `sub` (the user the service account acts for).
    pub user: String,
    /// Extra trusted CA certificates (PEM), as for SMTP.
    pub cafile: Option<PathBuf>,
    /// Delegated providers: the file holding the refresh token (first line, or JSON).
    pub refresh_token_file: Option<PathBuf>,
}

/// How long a token request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `smtp.timeout`: the longest wait for any one step (DNS, connect, TLS handshake,
    /// sending the request, the whole response).
    pub step: Duration,
    /// `smtp.max_time`: nothing waits past this moment.
    pub until: Option<Instant>,
}

/// Debug shows the token as `********` (`Secret`'s Debug).
#[derive(Debug)]
pub struct Token {
    pub access_token: Secret,
    /// Time left before the token expires.
    pub expires_in: Duration,
    /// Fetched during this call (a fresh token refused by the server is not worth renewing).
    pub fresh: bool,
}

/// The line for a debug log: where the token came from and how long it lasts, never the token.
impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.expires_in.as_secs();
        if self.fresh {
            write!(f, "fetched a new token (expires in {secs} s)")
        } else {
            write!(f, "token from cache, expires in {secs} s")
        }
    }
}

/// A token for these settings: from this process's cache while it has more than 5 minutes to
/// live, else fetched. `renew = true` skips the cache (the server refused the cached token).
/// A forked child may use what its parent cached: a token is not a connection.
pub fn token(s: &OAuthSettings, limits: Limits, renew: bool) -> Result<Token, OAuthError> {
    check(s)?;
    let key = CacheKey::of(s);
    if !renew {
        if let Some(t) = cached(&key, Instant::now()) {
            log::debug!(target: LOG_TARGET, "{t}");
            return Ok(t);
        }
    }
    let (access_token, lifetime) = fetch(s, limits)?;
    let now = Instant::now();
    CACHE.lock().insert(
        key,
        Cached {
            token: access_token.clone(),
            expires_at: now + lifetime,
            lifetime,
        },
    );
    let t = Token {
        access_token,
        expires_in: lifetime,
        fresh: true,
    };
    log::debug!(target: LOG_TARGET, "{t}");
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// Cache

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    provider: Provider,
    tenant: String,
    client_id: String,
    scope: Option<String>,
    user: String,
    token_url: Option<String>,
    key_file: Option<PathBuf>,
    refresh_token_file: Option<PathBuf>,
    /// A token got with one client secret is not handed out for another (a wrong secret must
    /// not "work" until the old token expires).
    secret: [u8; 16],
}

impl CacheKey {
    fn of(s: &OAuthSettings) -> CacheKey {
        CacheKey {
            provider: s.provider,
            tenant: s.tenant.trim().to_string(),
            client_id: s.client_id.trim().to_string(),
            scope: s.scope.clone(),
            user: s.user.clone(),
            token_url: s.token_url.clone(),
            key_file: s.key_file.clone(),
            refresh_token_file: s.refresh_token_file.clone(),
            secret: s.client_secret.fingerprint(),
        }
    }
}

struct Cached {
    token: Secret,
    expires_at: Instant,
    lifetime: Duration,
}

static CACHE: Lazy<Mutex<HashMap<CacheKey, Cached>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// How long before expiry a cached token is given up: 5 minutes, or half the lifetime of a
/// token that lives less than 10 minutes (test endpoints, unusual providers).
fn margin(lifetime: Duration) -> Duration {
    Duration::from_secs(300).min(lifetime / 2)
}

fn cached(key: &CacheKey, now: Instant) -> Option<Token> {
    let cache = CACHE.lock();
    let c = cache.get(key)?;
    let left = c.expires_at.checked_duration_since(now)?;
    (left > margin(c.lifetime)).then(|| Token {
        access_token: c.token.clone(),
        expires_in: left,
        fresh: false,
    })
}

// ---------------------------------------------------------------------------------------------
// Fetching

fn check(s: &OAuthSettings) -> Result<(), OAuthError> {
    let missing = |what: &str| Err(OAuthError::Config(what.to_string()));
    match s.provider {
        Provider::Microsoft | Provider::Generic => {
            if s.provider == Provider::Generic && s.token_url.is_none() {
                return missing(
                    "smtp.oauth_provider=generic needs smtp.oauth_token_url (the token endpoint)",
                );
            }
            if s.provider == Provider::Microsoft
                && s.token_url.is_none()
                && s.tenant.trim().is_empty()
            {
                return missing(
                    "smtp.oauth_tenant is empty: set it to the Directory (tenant) ID or a \
                     verified domain of the tenant",
                );
            }
            if s.client_id.trim().is_empty() {
                return missing(
                    "smtp.oauth_client_id is empty: set it to the Application (client) ID",
                );
            }
            if s.client_secret.is_empty() {
                return missing(
                    "the client secret is empty: set smtp.oauth_client_secret, \
                     smtp.oauth_client_secret_file or smtp.oauth_client_secret_env",
                );
            }
        }
        Provider::Google => {
            if s.key_file.is_none() {
                return missing(
                    "smtp.oauth_provider=google needs smtp.oauth_key_file (the service \
                     account's JSON key)",
                );
            }
            if s.user.trim().is_empty() {
                return missing(
                    "smtp.oauth_provider=google needs smtp.username: the mailbox the service \
                     account sends as",
                );
            }
        }
        Provider::MicrosoftDelegated | Provider::GoogleUser => {
            if s.client_id.trim().is_empty() {
                return missing(
                    "smtp.oauth_client_id is empty: set it to the client id of the app the user \
                     signed in with",
                );
            }
            if s.provider == Provider::GoogleUser && s.client_secret.is_empty() {
                return missing(
                    "smtp.oauth_provider=google-user needs the OAuth client's secret \
                     (smtp.oauth_client_secret_file, _env or smtp.oauth_client_secret)",
                );
            }
            if s.refresh_token_file.is_none() {
                return missing(
                    "smtp.oauth_refresh_token_file is empty: set it to the file that \
                     `smtp-doctor oauth-login` writes",
                );
            }
        }
    }
    Ok(())
}

fn scope(s: &OAuthSettings) -> Option<&str> {
    match s.scope.as_deref().map(str::trim) {
        Some(scope) if !scope.is_empty() => Some(scope),
        _ => s.provider.default_scope(),
    }
}

fn parse_url(url: &str) -> Result<Url, OAuthError> {
    Url::parse(url).map_err(|e| OAuthError::Config(format!("token URL: {e}")))
}

/// One request to the endpoint: the token and how long it lives.
fn fetch(s: &OAuthSettings, limits: Limits) -> Result<(Secret, Duration), OAuthError> {
    let (url, form) = match s.provider {
        Provider::MicrosoftDelegated | Provider::GoogleUser => return fetch_delegated(s, limits),
        Provider::Microsoft | Provider::Generic => {
            let url = match &s.token_url {
                Some(u) => u.clone(),
                None => format!(
                    "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                    s.tenant.trim()
                ),
            };
            let form = client_credentials_form(s.client_id.trim(), &s.client_secret, scope(s));
            (parse_url(&url)?, form)
        }
        Provider::Google => {
            let key_file = s.key_file.as_deref().unwrap_or(std::path::Path::new(""));
            let account = ServiceAccount::load(key_file)?;
            let url = s
                .token_url
                .clone()
                .or_else(|| account.token_uri.clone())
                .unwrap_or_else(|| google::DEFAULT_TOKEN_URI.to_string());
            let parsed = parse_url(&url)?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let assertion = account.assertion(s.user.trim(), scope(s).unwrap_or(""), &url, now)?;
            (parsed, jwt_bearer_form(&assertion))
        }
    };
    let response = http::post_form(&url, form.expose(), s.cafile.as_deref(), limits)?;
    read_token(
        s.provider,
        &url.shown(),
        response.status,
        &response.reason,
        &response.body,
    )
}

/// The token URL of a delegated provider: `smtp.oauth_token_url`, else the provider's (for
/// Microsoft with the tenant: `common` for work and personal accounts, `consumers` for
/// Outlook.com only, or the tenant's id or domain).
pub fn delegated_token_url(s: &OAuthSettings) -> String {
    match (&s.token_url, s.provider) {
        (Some(u), _) => u.clone(),
        (None, Provider::GoogleUser) => google::DEFAULT_TOKEN_URI.to_string(),
        (None, _) => {
            let tenant = match s.tenant.trim() {
                "" => "common",
                t => t,
            };
            format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
        }
    }
}

/// The refresh-token grant. The whole exchange runs under the token file's lock: Microsoft
/// rotates refresh tokens, and two processes exchanging the same one at once would leave the
/// file with whichever they wrote last (with a server that revokes the old token, a dead one).
fn fetch_delegated(s: &OAuthSettings, limits: Limits) -> Result<(Secret, Duration), OAuthError> {
    let path = s
        .refresh_token_file
        .as_deref()
        .unwrap_or(std::path::Path::new(""));
    let url = parse_url(&delegated_token_url(s))?;
    // Another process's exchange takes at most a few steps; never past the call's own end.
    let wait = Instant::now() + limits.step * 3;
    let _locked = refresh::lock(path, limits.until.map_or(wait, |u| u.min(wait)))?;
    let stored = refresh::read(path)?;
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("grant_type", "refresh_token");
    f.append_pair("client_id", s.client_id.trim());
    if !s.client_secret.is_empty() {
        f.append_pair("client_secret", s.client_secret.expose());
    }
    f.append_pair("refresh_token", stored.token.expose());
    // Google keeps the scope the user consented to; Microsoft wants it named again.
    if s.provider == Provider::MicrosoftDelegated {
        f.append_pair("scope", scope(s).unwrap_or(MS_DELEGATED_SCOPE));
    }
    let form = Secret::new(f.finish());
    let response = http::post_form(&url, form.expose(), s.cafile.as_deref(), limits)?;
    let token = read_token(
        s.provider,
        &url.shown(),
        response.status,
        &response.reason,
        &response.body,
    )?;
    if let Some(new) = rotated(&response.body).filter(|n| *n != stored.token) {
        match refresh::write_back(path, &stored, &new) {
            Ok(()) => {
                log::debug!(target: LOG_TARGET, "the endpoint rotated the refresh token; {} updated", path.display())
            }
            // The access token is good for this send; the old refresh token stays in the
            // file (providers that rotate keep it valid for a while).
            Err(e) => log::warn!(
                target: LOG_TARGET,
                "the token endpoint issued a new refresh token, but {} could not be updated \
                 ({e}); it keeps the previous one. Let the PHP user write that directory",
                path.display()
            ),
        }
    }
    Ok(token)
}

/// The new refresh token in a successful answer, when there is one.
fn rotated(body: &[u8]) -> Option<Secret> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let t = v.get("refresh_token")?.as_str()?.trim();
    (!t.is_empty()).then(|| Secret::new(t))
}

/// `grant_type=client_credentials`, with the secret in the body (not in a Basic header: both
/// Microsoft and most others accept it there, and it keeps the request one shape).
fn client_credentials_form(client_id: &str, secret: &Secret, scope: Option<&str>) -> Secret {
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("grant_type", "client_credentials");
    f.append_pair("client_id", client_id);
    f.append_pair("client_secret", secret.expose());
    if let Some(scope) = scope {
        f.append_pair("scope", scope);
    }
    Secret::new(f.finish())
}

fn jwt_bearer_form(assertion: &str) -> Secret {
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
    f.append_pair("assertion", assertion);
    Secret::new(f.finish())
}

/// Lifetime assumed when a successful response has no `expires_in` (RFC 6749 only
/// recommends it); an early refusal by the mail server is handled by renewing.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// The token in the endpoint's answer, or what went wrong in words.
fn read_token(
    provider: Provider,
    url: &str,
    status: u16,
    reason: &str,
    body: &[u8],
) -> Result<(Secret, Duration), OAuthError> {
    let json: Option<Value> = serde_json::from_slice(body).ok().filter(Value::is_object);
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
    if let Some(error) = json.as_ref().and_then(|v| text(v, "error")) {
        let v = json.as_ref().unwrap_or(&Value::Null);
        let description = text(v, "error_description")
            .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()).map(short));
        let codes: Vec<u64> = v
            .get("error_codes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        let mut refusal = Refusal::classify(&error, description.as_deref().unwrap_or(""), &codes);
        // Google's JWT grant has no client secret: its invalid_client means a bad key.
        if provider == Provider::Google && refusal == Refusal::WrongSecret {
            refusal = Refusal::BadKey;
        }
        // A refresh token that expired, was revoked or needs the user again (AADSTS70008,
        // 700082, 50173; Google "Token has been expired or revoked."): only signing in helps.
        if provider.delegated() && (error == "invalid_grant" || error == "interaction_required") {
            refusal = Refusal::SignInAgain;
        }
        return Err(OAuthError::Endpoint {
            url: url.to_string(),
            status,
            error: short(&error),
            description,
            refusal,
        });
    }
    if !(200..300).contains(&status) {
        return Err(OAuthError::Http {
            url: url.to_string(),
            status,
            reason: short(reason),
        });
    }
    let bad = |detail: &str| {
        Err(OAuthError::BadResponse {
            url: url.to_string(),
            detail: detail.to_string(),
        })
    };
    let Some(v) = json else {
        return bad("its response is not JSON");
    };
    let Some(token) = text(&v, "access_token").filter(|t| !t.is_empty()) else {
        return bad("its response holds no access_token");
    };
    // XOAUTH2 puts the token between \x01 separators on one base64 line: anything but
    // visible ASCII would corrupt it.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("its access_token holds characters a bearer token cannot have");
    }
    if let Some(kind) = text(&v, "token_type") {
        if !kind.eq_ignore_ascii_case("bearer") {
            return bad(&format!(
                "its token is of type \"{}\", not a Bearer token",
                short(&kind)
            ));
        }
    }
    let lifetime = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .map(Duration::from_secs)
    .unwrap_or(DEFAULT_LIFETIME);
    if lifetime.is_zero() {
        return bad("its token expires at once (expires_in is 0)");
    }
    Ok((Secret::new(token), lifetime))
}

/// One line of the endpoint's text for a message: control characters out, at most 300
/// characters.
fn short(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    match clean.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &clean[..i]),
        None => clean.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(provider: Provider) -> OAuthSettings {
        OAuthSettings {
            provider,
            tenant: "contoso.onmicrosoft.com".into(),
            token_url: None,
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            client_secret: Secret::new("a~b c&d=e+f"),
            scope: None,
            key_file: None,
            user: "wiki@contoso.com".into(),
            cafile: None,
            refresh_token_file: None,
        }
    }

    #[test]
    fn form_encoding_of_client_credentials() {
        let s = settings(Provider::Microsoft);
        let form = client_credentials_form(&s.client_id, &s.client_secret, scope(&s));
        assert_eq!(
            form.expose(),
            "grant_type=client_credentials&client_id=11111111-2222-3333-4444-555555555555\
             &client_secret=a%7Eb+c%26d%3De%2Bf\
             &scope=https%3A%2F%2Foutlook.office365.com%2F.default"
        );
        // Generic without a scope sends none; an explicit scope wins over the default.
        let form = client_credentials_form("id", &Secret::new("s"), None);
        assert_eq!(
            form.expose(),
            "grant_type=client_credentials&client_id=id&client_secret=s"
        );
        let mut g = settings(Provider::Google);
        assert_eq!(scope(&g), Some("https://mail.google.com/"));
        g.scope = Some("  ".into());
        assert_eq!(scope(&g), Some("https://mail.google.com/"));
        g.scope = Some("https://example/scope".into());
        assert_eq!(scope(&g), Some("https://example/scope"));
        assert_eq!(
            jwt_bearer_form("a.b.c").expose(),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c"
        );
        // The form is a Secret: its Debug shows no secret.
        assert!(!format!("{form:?}").contains('s'));
    }

    #[test]
    fn settings_are_checked_before_any_request() {
        let msg = |s: &OAuthSettings| check(s).unwrap_err().to_string();
        let mut s = settings(Provider::Microsoft);
        s.tenant = " ".into();
        assert!(msg(&s).contains("smtp.oauth_tenant"));
        s.token_url = Some("https://127.0.0.1:1/t".into());
        assert!(check(&s).is_ok(), "a token URL makes the tenant unneeded");
        s.client_secret = Secret::new("");
        assert!(msg(&s).contains("smtp.oauth_client_secret_file"));
        let mut s = settings(Provider::Generic);
        assert!(msg(&s).contains("smtp.oauth_token_url"));
        s.token_url = Some("https://example/token".into());
        s.client_id.clear();
        assert!(msg(&s).contains("smtp.oauth_client_id"));
        let mut s = settings(Provider::Google);
        assert!(msg(&s).contains("smtp.oauth_key_file"));
        s.key_file = Some("/k.json".into());
        s.user.clear();
        assert!(msg(&s).contains("smtp.username"));
        assert!(matches!(
            parse_url("http://example/token"),
            Err(OAuthError::Config(_))
        ));
    }

    const URL: &str = "https://login.example/t/oauth2/v2.0/token";

    fn read(provider: Provider, status: u16, body: &str) -> Result<(Secret, Duration), OAuthError> {
        read_token(provider, URL, status, "Reason", body.as_bytes())
    }

    #[test]
    fn token_responses() {
        let (t, life) = read(
            Provider::Microsoft,
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0.abc-_~+/="}"#,
        )
        .unwrap();
        assert_eq!(
            (t.expose(), life),
            ("eyJ0.abc-_~+/=", Duration::from_secs(3599))
        );
        let (_, life) = read(
            Provider::Generic,
            200,
            r#"{"access_token":"x","expires_in":"60"}"#,
        )
        .unwrap();
        assert_eq!(life, Duration::from_secs(60));
        let (_, life) = read(Provider::Generic, 200, r#"{"access_token":"x"}"#).unwrap();
        assert_eq!(life, DEFAULT_LIFETIME);
        let bad = |status, body: &str| {
            read(Provider::Generic, status, body)
                .unwrap_err()
                .to_string()
        };
        assert!(
            bad(200, r#"{"token_type":"Bearer","id_token":"SECRETX"}"#).contains("no access_token")
        );
        assert!(!bad(200, r#"{"id_token":"SECRETX"}"#).contains("SECRETX"));
        assert!(bad(200, "<html>SECRETX</html>").contains("not JSON"));
        assert!(bad(200, r#"{"access_token":"a b"}"#).contains("cannot have"));
        assert!(bad(200, r#"{"access_token":"x","token_type":"mac"}"#).contains("\"mac\""));
        assert!(bad(200, r#"{"access_token":"x","expires_in":0}"#).contains("expires at once"));
    }

    #[test]
    fn error_responses_quote_the_first_line_of_the_description() {
        let e = read(
            Provider::Microsoft,
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]}"#,
        )
        .unwrap_err();
        match &e {
            OAuthError::Endpoint {
                status,
                error,
                description,
                refusal,
                ..
            } => {
                assert_eq!(*status, 401);
                assert_eq!(error, "invalid_client");
                assert_eq!(
                    description.as_deref(),
                    Some("AADSTS7000215: Invalid client secret provided.")
                );
                assert_eq!(*refusal, Refusal::WrongSecret);
            }
            other => panic!("{other:?}"),
        }
        assert!(!e.to_string().contains("Trace ID"));
        // An error body wins even with a 200 status; HTML errors are HTTP errors.
        assert!(matches!(
            read(
                Provider::Google,
                200,
                r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#
            ),
            Err(OAuthError::Endpoint {
                refusal: Refusal::BadKey,
                ..
            })
        ));
        assert!(matches!(
            read(Provider::Google, 401, r#"{"error":"invalid_client"}"#),
            Err(OAuthError::Endpoint {
                refusal: Refusal::BadKey,
                ..
            })
        ));
        assert!(matches!(
            read(Provider::Microsoft, 404, "<html>Not here</html>"),
            Err(OAuthError::Http { status: 404, .. })
        ));
        assert_eq!(short(&"x".repeat(400)).len(), 303);
        assert_eq!(short("a\tb\u{7}"), "a b");
    }

    #[test]
    fn cached_until_five_minutes_before_expiry() {
        assert_eq!(margin(Duration::from_secs(3599)), Duration::from_secs(300));
        assert_eq!(margin(Duration::from_secs(8)), Duration::from_secs(4));
        let key = CacheKey::of(&OAuthSettings {
            client_id: "cache-test".into(),
            ..settings(Provider::Microsoft)
        });
        let now = Instant::now();
        CACHE.lock().insert(
            key.clone(),
            Cached {
                token: Secret::new("t"),
                expires_at: now + Duration::from_secs(3599),
                lifetime: Duration::from_secs(3599),
            },
        );
        let t = cached(&key, now).unwrap();
        assert!(!t.fresh);
        assert_eq!(t.access_token.expose(), "t");
        assert_eq!(t.to_string(), "token from cache, expires in 3599 s");
        assert!(!format!("{t:?}").contains("\"t\""));
        assert!(cached(&key, now + Duration::from_secs(3290)).is_some());
        assert!(cached(&key, now + Duration::from_secs(3300)).is_none());
        assert!(cached(&key, now + Duration::from_secs(4000)).is_none());
        let other = CacheKey {
            user: "other@contoso.com".into(),
            ..key
        };
        assert!(cached(&other, now).is_none());
    }

    #[test]
    fn provider_names() {
        assert_eq!(Provider::parse(" Microsoft "), Some(Provider::Microsoft));
        assert_eq!(Provider::parse("google"), Some(Provider::Google));
        assert_eq!(Provider::parse("GENERIC"), Some(Provider::Generic));
        assert_eq!(Provider::parse("azure"), None);
        assert_eq!(Provider::Generic.default_scope(), None);
    }
}
