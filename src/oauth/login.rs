//! Signing a mailbox in once, for the delegated providers: Microsoft's device code flow
//! (RFC 8628: a code the person types at a URL on any device, while this side polls) and
//! Google's loopback redirect for installed apps (the browser comes back to 127.0.0.1 with a
//! code; PKCE binds it to this process). Both end with the refresh token stored in
//! `smtp.oauth_refresh_token_file` (mode 0600 for a new file). Used by `smtp-doctor
//! oauth-login`; the caller shows the prompts.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SecureRandom;
use serde_json::Value;

use super::error::OAuthError;
use super::{delegated_token_url, http, parse_url, read_token, refresh, scope, short};
use super::{Limits, OAuthSettings, Provider};
use crate::secret::Secret;

/// Google's authorization endpoint for installed apps.
pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";

/// What the person must do for the device code flow.
#[derive(Debug)]
pub struct DeviceCode {
    pub verification_uri: String,
    pub user_code: String,
    /// The provider's own sentence ("To sign in, use a web browser to open ..."), if any.
    pub message: Option<String>,
    device_code: Secret,
    interval: Duration,
    expires_at: Instant,
}

fn config(msg: String) -> OAuthError {
    OAuthError::Config(msg)
}

fn json_of(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok().filter(Value::is_object)
}

fn text(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(Value::as_str).map(str::to_string)
}

fn number(v: &Value, name: &str) -> Option<u64> {
    match v.get(name) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Starts the device code flow: asks the endpoint next to the token endpoint
/// (`.../oauth2/v2.0/devicecode`) for a code.
pub fn device_code(s: &OAuthSettings, limits: Limits) -> Result<DeviceCode, OAuthError> {
    if s.provider != Provider::MicrosoftDelegated {
        return Err(config(
            "the device code sign-in is for smtp.oauth_provider=microsoft-delegated; Google \
             signs in with the loopback redirect"
                .into(),
        ));
    }
    if s.client_id.trim().is_empty() {
        return Err(config(
            "smtp.oauth_client_id is empty: the Application (client) ID of the app registration"
                .into(),
        ));
    }
    let token_url = delegated_token_url(s);
    let Some(base) = token_url.strip_suffix("/token") else {
        return Err(config(format!(
            "cannot derive the device code endpoint from the token URL {token_url} (it must end \
             in /token)"
        )));
    };
    let url = parse_url(&format!("{base}/devicecode"))?;
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("client_id", s.client_id.trim());
    f.append_pair("scope", scope(s).unwrap_or(super::MS_DELEGATED_SCOPE));
    let started = Instant::now();
    let r = http::post_form(&url, &f.finish(), s.cafile.as_deref(), limits)?;
    let v = json_of(&r.body);
    if let Some(v) = v.as_ref().filter(|v| v.get("error").is_some()) {
        // Same words as a token refusal (AADSTS700016 unknown client, public client flows
        // not allowed, ...).
        read_token(s.provider, &url.shown(), r.status, &r.reason, &r.body)?;
        return Err(config(format!("device code refused: {v}")));
    }
    let bad = |what: &str| OAuthError::BadResponse {
        url: url.shown(),
        detail: format!("its device code answer has no {what}"),
    };
    let v = v.ok_or_else(|| bad("JSON"))?;
    let device_code = text(&v, "device_code").ok_or_else(|| bad("device_code"))?;
    let user_code = text(&v, "user_code").ok_or_else(|| bad("user_code"))?;
    let verification_uri = text(&v, "verification_uri")
        .or_else(|| text(&v, "verification_url"))
        .ok_or_else(|| bad("verification_uri"))?;
    Ok(DeviceCode {
        verification_uri: short(&verification_uri),
        user_code: short(&user_code),
        message: text(&v, "message").map(|m| short(&m)),
        device_code: Secret::new(device_code),
        interval: Duration::from_secs(number(&v, "interval").unwrap_or(5).max(1)),
        expires_at: started + Duration::from_secs(number(&v, "expires_in").unwrap_or(900)),
    })
}

/// Polls until the person has signed in (or refused, or the code expired), then stores the
/// refresh token in `smtp.oauth_refresh_token_file`. `progress` hears about each wait.
pub fn device_code_finish(
    s: &OAuthSettings,
    code: &DeviceCode,
    limits: Limits,
    progress: &mut dyn FnMut(&str),
) -> Result<(), OAuthError> {
    let url = parse_url(&delegated_token_url(s))?;
    let mut interval = code.interval;
    loop {
        if Instant::now() + interval > code.expires_at {
            return Err(config(
                "the device code expired before the sign-in was completed: run the command \
                 again and sign in within the time shown"
                    .into(),
            ));
        }
        std::thread::sleep(interval);
        let mut f = form_urlencoded::Serializer::new(String::new());
        f.append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code");
        f.append_pair("client_id", s.client_id.trim());
        f.append_pair("device_code", code.device_code.expose());
        let r = http::post_form(&url, &f.finish(), s.cafile.as_deref(), limits)?;
        let error = json_of(&r.body).and_then(|v| text(&v, "error"));
        match error.as_deref() {
            Some("authorization_pending") => progress("waiting for the sign-in"),
            // RFC 8628 3.5: poll 5 seconds less often from now on.
            Some("slow_down") => {
                interval += Duration::from_secs(5);
                progress("the endpoint asked to poll more slowly");
            }
            Some("expired_token") => {
                return Err(config(
                    "the device code expired before the sign-in was completed: run the \
                     command again and sign in within the time shown"
                        .into(),
                ))
            }
            Some("access_denied") | Some("authorization_declined") => {
                return Err(config(
                    "the sign-in was declined (the person chose not to allow the app, or an \
                     administrator must consent to SMTP.Send first)"
                        .into(),
                ))
            }
            _ => return store_from(s, &url, r),
        }
    }
}

/// The loopback redirect sign-in (Google): listens on 127.0.0.1:`port` (0: any free port),
/// calls `show` with the URL to open and the port, waits at most `wait` for the browser to
/// come back, exchanges the code and stores the refresh token.
pub fn loopback(
    s: &OAuthSettings,
    auth_url: Option<&str>,
    port: u16,
    wait: Duration,
    limits: Limits,
    show: &mut dyn FnMut(&str, u16),
) -> Result<(), OAuthError> {
    if s.provider != Provider::GoogleUser {
        return Err(config(
            "the loopback sign-in is for smtp.oauth_provider=google-user; Microsoft signs in \
             with the device code"
                .into(),
        ));
    }
    if s.client_id.trim().is_empty() || s.client_secret.is_empty() {
        return Err(config(
            "google-user needs smtp.oauth_client_id and the client secret of a Desktop app \
             OAuth client"
                .into(),
        ));
    }
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| config(format!("cannot listen on 127.0.0.1:{port} ({e})")))?;
    let port = listener
        .local_addr()
        .map_err(|e| config(e.to_string()))?
        .port();
    let redirect = format!("http://127.0.0.1:{port}/");
    let state = random(16);
    let verifier = random(32);
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", s.client_id.trim());
    q.append_pair("redirect_uri", &redirect);
    q.append_pair("response_type", "code");
    q.append_pair("scope", scope(s).unwrap_or("https://mail.google.com/"));
    // A refresh token is given only for offline access, and again only with a new consent.
    q.append_pair("access_type", "offline");
    q.append_pair("prompt", "consent");
    q.append_pair("state", &state);
    q.append_pair("code_challenge", &challenge);
    q.append_pair("code_challenge_method", "S256");
    show(
        &format!("{}?{}", auth_url.unwrap_or(GOOGLE_AUTH_URL), q.finish()),
        port,
    );
    let code = wait_for_code(&listener, &state, wait)?;
    let url = parse_url(&delegated_token_url(s))?;
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("grant_type", "authorization_code");
    f.append_pair("code", code.expose());
    f.append_pair("client_id", s.client_id.trim());
    f.append_pair("client_secret", s.client_secret.expose());
    f.append_pair("redirect_uri", &redirect);
    f.append_pair("code_verifier", &verifier);
    let r = http::post_form(&url, &f.finish(), s.cafile.as_deref(), limits)?;
    store_from(s, &url, r)
}

fn random(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// The browser's request to the redirect URI: `GET /?code=...&state=...`. Requests without a
/// code (a favicon) get a 404 and are waited past; a wrong state is refused.
fn wait_for_code(
    listener: &TcpListener,
    state: &str,
    wait: Duration,
) -> Result<Secret, OAuthError> {
    let end = Instant::now() + wait;
    listener
        .set_nonblocking(true)
        .map_err(|e| config(e.to_string()))?;
    loop {
        let conn = match listener.accept() {
            Ok((c, _)) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= end {
                    return Err(config(format!(
                        "no sign-in came back to the loopback address within {} s: open the \
                         URL shown in a browser on this machine (or through the ssh -L tunnel) \
                         and run the command again",
                        wait.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(config(format!("loopback listener failed ({e})"))),
        };
        if let Some(result) = answer(conn, state) {
            return result;
        }
    }
}

/// One request to the loopback listener; `None` for one that carries no answer.
fn answer(mut conn: TcpStream, state: &str) -> Option<Result<Secret, OAuthError>> {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    // The request line is all we need; 8 KiB bounds what a stray client can make us hold.
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < 8192 {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let line = String::from_utf8_lossy(&buf);
    let target = line
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("GET "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or("");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let reply = |conn: &mut TcpStream, status: &str, body: &str| {
        let _ = write!(
            conn,
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \
             {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    };
    if get("state").as_deref() != Some(state) {
        if get("code").is_none() && get("error").is_none() {
            reply(&mut conn, "404 Not Found", "");
            return None;
        }
        reply(
            &mut conn,
            "400 Bad Request",
            "Wrong state: run the sign-in again.\n",
        );
        return Some(Err(config(
            "the sign-in came back with a state this command did not send (an old browser \
             tab, or another sign-in): run the command again and use the new URL"
                .into(),
        )));
    }
    if let Some(error) = get("error") {
        reply(
            &mut conn,
            "200 OK",
            "The sign-in was not completed. You can close this tab.\n",
        );
        return Some(Err(config(format!(
            "the sign-in was refused: {} (the account did not allow the app, or the OAuth \
             consent screen does not list this user as a test user)",
            short(&error)
        ))));
    }
    let code = get("code")?;
    reply(
        &mut conn,
        "200 OK",
        "Signed in. The refresh token is stored; you can close this tab.\n",
    );
    Some(Ok(Secret::new(code)))
}

/// The endpoint's answer with the tokens: refusals in the usual words; the refresh token
/// stored.
fn store_from(s: &OAuthSettings, url: &http::Url, r: http::Response) -> Result<(), OAuthError> {
    read_token(s.provider, &url.shown(), r.status, &r.reason, &r.body)?;
    let token = json_of(&r.body)
        .and_then(|v| text(&v, "refresh_token"))
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| OAuthError::BadResponse {
            url: url.shown(),
            detail: "its answer holds no refresh_token (Microsoft: the scope needs \
                     offline_access; Google: access_type=offline and a new consent)"
                .into(),
        })?;
    let path = s.refresh_token_file.as_deref().ok_or_else(|| {
        config("smtp.oauth_refresh_token_file is empty: set it to where the token goes".into())
    })?;
    store(path, &Secret::new(token.trim()))
}

fn store(path: &Path, token: &Secret) -> Result<(), OAuthError> {
    let _locked = refresh::lock(path, Instant::now() + Duration::from_secs(10))?;
    refresh::store(path, token).map_err(|e| {
        config(format!(
            "the refresh token could not be written to smtp.oauth_refresh_token_file \"{}\" \
             ({e}); the previous file, if any, is unchanged",
            path.display()
        ))
    })
}
