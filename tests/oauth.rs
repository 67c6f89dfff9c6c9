//! Token fetching (src/oauth/) against tests/servers/token_server.py, the project's HTTPS token
//! endpoint acting as Microsoft's and Google's, and the XOAUTH2 check of fault_smtp.py with the
//! tokens that endpoint issued.
//!
//! Every test uses its own client id or mailbox: the token cache is per process, shared by
//! these tests.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use smtp::config::Secret;
use smtp::net::NetError;
use smtp::oauth::{self, Limits, OAuthError, OAuthSettings, Provider, Refusal, Step};

mod common;

use common::token::{client_arg, google_key, TokenServer, SECRET, TENANT};
use common::{certs, TempDir};

type Server = TokenServer;

fn token_server(args: &[&str]) -> Server {
    TokenServer::start(args)
}

fn token_server_with(pem: &Path, key: &Path, args: &[&str]) -> Server {
    TokenServer::start_with(pem, key, args)
}

fn ca() -> Option<PathBuf> {
    Some(certs().join("ca.pem"))
}

// ---------------------------------------------------------------------------------------------
// Settings

fn microsoft(server: &Server, client: &str) -> OAuthSettings {
    OAuthSettings {
        provider: Provider::Microsoft,
        tenant: TENANT.into(),
        token_url: Some(server.ms_url()),
        client_id: client.into(),
        client_secret: Secret::new(SECRET),
        scope: None,
        key_file: None,
        user: "wiki@example.org".into(),
        cafile: ca(),
        refresh_token_file: None,
    }
}

fn limits(step_ms: u64) -> Limits {
    Limits {
        step: Duration::from_millis(step_ms),
        until: None,
    }
}

fn err(r: Result<oauth::Token, OAuthError>) -> OAuthError {
    match r {
        Ok(t) => panic!("expected an error, got {t:?}"),
        Err(e) => e,
    }
}

/// The endpoint's refusal for `s`: of the kind `want`, quoting the endpoint (`quoted`), giving
/// the fix (`fix`), and never showing the client secret or Microsoft's trace noise.
fn refused(s: &OAuthSettings, want: Refusal, quoted: &str, fix: &str) -> OAuthError {
    let e = err(oauth::token(s, limits(5000), true));
    let msg = e.to_string();
    match &e {
        OAuthError::Endpoint { refusal, .. } => assert_eq!(*refusal, want, "{msg}"),
        other => panic!("{other:?}"),
    }
    assert!(msg.contains(quoted), "{msg}");
    assert!(msg.contains(fix), "{msg}");
    assert!(!msg.contains(SECRET) && !msg.contains("Trace ID"), "{msg}");
    e
}

// ---------------------------------------------------------------------------------------------
// A log that keeps every record, to prove no secret reaches it

struct KeepAll(Mutex<Vec<String>>);

impl log::Log for KeepAll {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", r.target(), r.args()));
    }
    fn flush(&self) {}
}

static LOG: KeepAll = KeepAll(Mutex::new(Vec::new()));

fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        log::set_logger(&LOG).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

fn logged() -> Vec<String> {
    LOG.0.lock().unwrap().clone()
}

// ---------------------------------------------------------------------------------------------
// Microsoft

#[test]
fn microsoft_token_fetched_once_then_served_from_cache() {
    capture_logs();
    let server = token_server(&["--client", &client_arg("ms-cache")]);
    let s = microsoft(&server, "ms-cache");

    let first = oauth::token(&s, limits(5000), false).unwrap();
    assert!(first.fresh);
    assert!(
        first.access_token.expose().len() > 2048,
        "tokens are over 2 KB"
    );
    assert!(first.expires_in >= Duration::from_secs(3598));
    assert_eq!(first.to_string(), "fetched a new token (expires in 3599 s)");

    for _ in 0..5 {
        let again = oauth::token(&s, limits(5000), false).unwrap();
        assert!(!again.fresh);
        assert_eq!(again.access_token, first.access_token);
        assert!(again
            .to_string()
            .starts_with("token from cache, expires in "));
    }
    assert_eq!(server.requests(), 1, "one token request for six calls");

    // renew: the server refused the cached token; a new one replaces it in the cache.
    let renewed = oauth::token(&s, limits(5000), true).unwrap();
    assert!(renewed.fresh);
    assert_ne!(renewed.access_token, first.access_token);
    assert_eq!(server.requests(), 2);
    let cached = oauth::token(&s, limits(5000), false).unwrap();
    assert_eq!(cached.access_token, renewed.access_token);

    // Both issued tokens are listed for the SMTP server.
    let listed = fs::read_to_string(server.tokens_file()).unwrap();
    assert!(listed.contains(first.access_token.expose()));
    assert!(listed.contains(renewed.access_token.expose()));

    // The log says where tokens came from, never what they are.
    let lines: Vec<String> = logged()
        .into_iter()
        .filter(|l| l.starts_with(oauth::LOG_TARGET))
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("fetched a new token")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("token from cache")),
        "{lines:?}"
    );
    for l in logged() {
        assert!(!l.contains(first.access_token.expose()), "{l}");
        assert!(!l.contains(renewed.access_token.expose()), "{l}");
        assert!(!l.contains(SECRET), "{l}");
    }
}

#[test]
fn short_lived_tokens_are_renewed_before_they_expire() {
    let server = token_server(&["--client", &client_arg("ms-short"), "--expires-in", "2"]);
    let s = microsoft(&server, "ms-short");
    let first = oauth::token(&s, limits(5000), false).unwrap();
    assert!(first.fresh);
    // A token living less than 10 minutes is kept for half its life.
    assert!(!oauth::token(&s, limits(5000), false).unwrap().fresh);
    std::thread::sleep(Duration::from_millis(1100));
    let next = oauth::token(&s, limits(5000), false).unwrap();
    assert!(next.fresh);
    assert_ne!(next.access_token, first.access_token);
    assert_eq!(server.requests(), 2);
}

#[test]
fn generic_client_credentials_without_a_scope() {
    let server = token_server(&[
        "--client",
        &client_arg("generic-1"),
        "--allow-no-scope",
        "--chunked",
    ]);
    let s = OAuthSettings {
        provider: Provider::Generic,
        tenant: String::new(),
        token_url: Some(format!("https://127.0.0.1:{}/token", server.port)),
        ..microsoft(&server, "generic-1")
    };
    let t = oauth::token(&s, limits(5000), false).unwrap();
    assert!(t.fresh && t.access_token.expose().starts_with("tok."));
    // The same settings without a token URL are refused before any request.
    let e = err(oauth::token(
        &OAuthSettings {
            token_url: None,
            ..s
        },
        limits(5000),
        false,
    ));
    assert!(e.to_string().contains("smtp.oauth_token_url"), "{e}");
}

/// Each refusal of the endpoint, natural (a wrong setting) or forced (--fail), turned into words
/// with the fix, the endpoint's first description line quoted, the secret nowhere.
#[test]
fn endpoint_refusals_are_explained() {
    let server = token_server(&["--client", &client_arg("ms-errors")]);
    let base = microsoft(&server, "ms-errors");
    let wrong_secret = OAuthSettings {
        client_secret: Secret::new("not-the-secret~"),
        ..base.clone()
    };
    refused(
        &wrong_secret,
        Refusal::WrongSecret,
        "\"AADSTS7000215: ",
        "double quotes",
    );
    let e = err(oauth::token(&wrong_secret, limits(5000), false)).to_string();
    assert!(!e.contains("not-the-secret"), "{e}");
    refused(
        &OAuthSettings {
            client_id: "no-such-app".into(),
            ..base.clone()
        },
        Refusal::UnknownClient,
        "AADSTS700016: No application with id 'no-such-app'",
        "Application (client) ID",
    );
    refused(
        &OAuthSettings {
            token_url: Some(format!(
                "https://127.0.0.1:{}/other-tenant/oauth2/v2.0/token",
                server.port
            )),
            ..base.clone()
        },
        Refusal::UnknownTenant,
        "AADSTS90002: Tenant 'other-tenant' was not found.",
        "smtp.oauth_tenant",
    );
    refused(
        &OAuthSettings {
            scope: Some("https://graph.microsoft.com/Mail.Send".into()),
            ..base.clone()
        },
        Refusal::InvalidScope,
        "invalid_scope",
        "smtp.oauth_scope",
    );
    assert_eq!(server.counts()["issued"].as_u64(), Some(0));

    let forced = |fail: &str| {
        let server = token_server(&["--client", &client_arg("ms-forced"), "--fail", fail]);
        err(oauth::token(
            &microsoft(&server, "ms-forced"),
            limits(5000),
            true,
        ))
    };
    let expired = token_server(&[
        "--client",
        &client_arg("ms-forced"),
        "--fail",
        "AADSTS7000222",
    ]);
    refused(
        &microsoft(&expired, "ms-forced"),
        Refusal::ExpiredSecret,
        "AADSTS7000222",
        "expired",
    );
    let e = forced("http500");
    assert!(
        matches!(e, OAuthError::Http { status: 500, .. }) && e.temporary(),
        "{e:?}"
    );
    assert!(e.to_string().contains("try again later"), "{e}");
    let e = forced("http404");
    assert!(e.to_string().contains("not a token endpoint"), "{e}");
    let e = forced("no_token");
    assert!(e.to_string().contains("no access_token"), "{e}");
    let e = forced("not_json");
    assert!(e.to_string().contains("not JSON"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Google

fn google(server: &Server, key: &Path, user: &str) -> OAuthSettings {
    OAuthSettings {
        provider: Provider::Google,
        tenant: String::new(),
        token_url: Some(server.google_url()),
        client_id: String::new(),
        client_secret: Secret::default(),
        scope: None,
        key_file: Some(key.to_path_buf()),
        user: user.into(),
        cafile: ca(),
        refresh_token_file: None,
    }
}

#[test]
fn google_service_account_assertion() {
    let keys = TempDir::new("keys");
    let key = google_key(keys.path(), "sa.json");
    let key_path = key.to_str().unwrap();
    let server = token_server(&[
        "--google-key",
        key_path,
        "--google-user",
        "wiki@example.org",
    ]);
    let t = oauth::token(
        &google(&server, &key, "wiki@example.org"),
        limits(5000),
        false,
    )
    .unwrap();
    assert!(t.fresh && t.access_token.expose().len() > 2048);
    assert!(
        !oauth::token(
            &google(&server, &key, "wiki@example.org"),
            limits(5000),
            false
        )
        .unwrap()
        .fresh
    );
    assert_eq!(server.requests(), 1);

    // Another mailbox: unknown to the domain.
    refused(
        &google(&server, &key, "nobody@example.org"),
        Refusal::UnknownUser,
        "Invalid email or User ID",
        "smtp.username",
    );

    // A scope the delegation does not cover.
    refused(
        &OAuthSettings {
            scope: Some("https://www.googleapis.com/auth/gmail.send".into()),
            ..google(&server, &key, "wiki@example.org")
        },
        Refusal::DelegationMissing,
        "unauthorized_client",
        "Domain-wide delegation",
    );

    // A key of the same account that the endpoint does not know (deleted, replaced).
    let other = google_key(keys.path(), "other.json");
    refused(
        &google(&server, &other, "wiki@example.org"),
        Refusal::BadKey,
        "Invalid JWT Signature",
        "Create a new JSON key",
    );

    // A key file that is not one: named, its content not shown.
    let bogus = keys.path().join("bogus.json");
    fs::write(
        &bogus,
        "{\"private_key\": \"TOP-SECRET-PEM\", \"client_email\": \"x@y\"}",
    )
    .unwrap();
    let e = err(oauth::token(
        &google(&server, &bogus, "wiki@example.org"),
        limits(5000),
        false,
    ));
    let msg = e.to_string();
    assert!(
        msg.contains(bogus.to_str().unwrap()) && !msg.contains("TOP-SECRET"),
        "{msg}"
    );
    assert_eq!(server.counts()["issued"].as_u64(), Some(1));
}

#[test]
fn google_clock_skew_and_forced_errors() {
    let keys = TempDir::new("keys2");
    let key = google_key(keys.path(), "sa.json");
    for (fail, refusal, quoted, fix) in [
        (
            "invalid_grant_time",
            Refusal::ClockSkew,
            "reasonable timeframe",
            "clock",
        ),
        (
            "unauthorized_client",
            Refusal::DelegationMissing,
            "Client is not allowed",
            "https://mail.google.com/",
        ),
        (
            "google_invalid_scope",
            Refusal::InvalidScope,
            "Invalid OAuth scope",
            "smtp.oauth_scope",
        ),
    ] {
        let server = token_server(&["--google-key", key.to_str().unwrap(), "--fail", fail]);
        refused(
            &google(&server, &key, "wiki@example.org"),
            refusal,
            quoted,
            fix,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// TLS

#[test]
fn the_endpoint_certificate_is_verified() {
    let server = token_server(&["--client", &client_arg("ms-tls")]);
    let e = err(oauth::token(
        &OAuthSettings {
            cafile: None,
            ..microsoft(&server, "ms-tls")
        },
        limits(5000),
        false,
    ));
    assert!(
        matches!(e, OAuthError::Network(NetError::Tls { .. })),
        "{e:?}"
    );
    assert!(e.to_string().contains("smtp.cafile"), "{e}");

    let c = certs();
    let wrong = token_server_with(
        &c.join("wrongname.pem"),
        &c.join("wrongname.key"),
        &["--client", &client_arg("ms-tls")],
    );
    let e = err(oauth::token(
        &microsoft(&wrong, "ms-tls"),
        limits(5000),
        false,
    ));
    assert!(
        e.to_string().contains("valid for: wrong.example.test"),
        "{e}"
    );
    assert_eq!(server.requests() + wrong.requests(), 0);
}

// ---------------------------------------------------------------------------------------------
// Limits: every wait bounded by `step`, the whole call by `until`

fn assert_timeout(e: &OAuthError, want: Step, want_overall: bool) {
    match e {
        OAuthError::Timeout { step, overall, .. } => {
            assert_eq!((*step, *overall), (want, want_overall), "{e}")
        }
        other => panic!("expected a timeout {want:?}, got {other:?}: {other}"),
    }
}

/// A token request to a server started with `misbehaviour` (`--stall ...`, `--trickle ...`)
/// that must fail within `limits`: the error, and how long it took (never a hang: 10 s at most).
fn misbehaving(
    client: &str,
    misbehaviour: &[&str],
    limits: impl Fn(Instant) -> Limits,
) -> (OAuthError, Duration) {
    let mut args = vec!["--client".to_string(), client_arg(client)];
    args.extend(misbehaviour.iter().map(|a| a.to_string()));
    let server = token_server(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let start = Instant::now();
    let e = err(oauth::token(
        &microsoft(&server, client),
        limits(start),
        false,
    ));
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    (e, took)
}

#[test]
fn a_server_that_never_does_the_handshake() {
    let (e, _) = misbehaving("ms-stall-tls", &["--stall", "handshake"], |_| limits(700));
    assert_timeout(&e, Step::TlsHandshake, false);
    assert!(e.to_string().contains("smtp.timeout"), "{e}");
}

#[test]
fn a_server_that_never_answers() {
    let (e, _) = misbehaving("ms-stall", &["--stall", "response"], |_| limits(700));
    assert_timeout(&e, Step::Response, false);
}

/// A byte every 50 ms would keep a per-read timeout happy for minutes: the step's budget
/// covers the whole response.
#[test]
fn a_trickling_response_is_cut_at_the_step_limit() {
    let (e, took) = misbehaving("ms-trickle", &["--trickle", "0.05"], |_| limits(1000));
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert_timeout(&e, Step::Response, false);
}

#[test]
fn until_ends_the_whole_call() {
    let until = |after: Duration| {
        move |start: Instant| Limits {
            step: Duration::from_secs(30),
            until: Some(start + after),
        }
    };
    let (e, took) = misbehaving(
        "ms-until",
        &["--trickle", "0.05"],
        until(Duration::from_millis(1200)),
    );
    assert!(took >= Duration::from_millis(1100), "{took:?}");
    assert_timeout(&e, Step::Response, true);
    assert!(e.to_string().contains("smtp.max_time"), "{e}");

    // Already past `until`: no wait at all.
    let (e, _) = misbehaving("ms-until", &["--trickle", "0.05"], until(Duration::ZERO));
    assert!(
        matches!(e, OAuthError::Timeout { overall: true, .. }),
        "{e:?}"
    );
}

#[test]
fn a_slow_but_steady_endpoint_within_the_limits_works() {
    let server = token_server(&["--client", &client_arg("ms-slow"), "--delay", "0.3"]);
    let t = oauth::token(&microsoft(&server, "ms-slow"), limits(2000), false).unwrap();
    assert!(t.fresh);
}

#[test]
fn nothing_listening_and_unknown_names() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = OAuthSettings {
        provider: Provider::Microsoft,
        tenant: TENANT.into(),
        token_url: Some(format!("https://127.0.0.1:{port}/t/oauth2/v2.0/token")),
        client_id: "ms-refused".into(),
        client_secret: Secret::new(SECRET),
        scope: None,
        key_file: None,
        user: String::new(),
        cafile: ca(),
        refresh_token_file: None,
    };
    let e = err(oauth::token(&s, limits(2000), false));
    assert!(
        matches!(e, OAuthError::Network(NetError::Refused { .. })),
        "{e:?}"
    );
    assert!(e.to_string().contains("refused"), "{e}");

    // A name that cannot resolve: an error or a timeout, but within the step either way.
    let start = Instant::now();
    let e = err(oauth::token(
        &OAuthSettings {
            token_url: Some("https://token.invalid/t".into()),
            ..s
        },
        limits(1500),
        false,
    ));
    assert!(
        start.elapsed() < Duration::from_millis(2500),
        "{:?}",
        start.elapsed()
    );
    assert!(
        matches!(
            e,
            OAuthError::Network(NetError::Resolve { .. })
                | OAuthError::Timeout {
                    step: Step::Resolve,
                    ..
                }
        ),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The tokens against fault_smtp.py --xoauth2-tokens

/// EHLO, then AUTH XOAUTH2 with the token as initial response; the final reply code.
fn xoauth2(port: u16, user: &str, token: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let reply = |r: &mut BufReader<TcpStream>| -> u16 {
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line.as_bytes().get(3) != Some(&b'-') {
                return line[..3].parse().unwrap();
            }
        }
    };
    assert_eq!(reply(&mut r), 220);
    s.write_all(b"EHLO client.test\r\n").unwrap();
    assert_eq!(reply(&mut r), 250);
    let ir = STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"));
    s.write_all(format!("AUTH XOAUTH2 {ir}\r\n").as_bytes())
        .unwrap();
    let mut code = reply(&mut r);
    if code == 334 {
        // The error challenge: an empty line gets the final failure.
        s.write_all(b"\r\n").unwrap();
        code = reply(&mut r);
    }
    let _ = s.write_all(b"QUIT\r\n");
    code
}

#[test]
fn the_smtp_server_accepts_only_current_tokens() {
    let server = token_server(&["--client", &client_arg("ms-smtp"), "--revoke-after", "1.5"]);
    let tokens = server.tokens_file();
    let smtp = common::FaultServer::start(&[
        "--auth-user",
        "wiki@example.org",
        "--auth-mechs",
        "LOGIN XOAUTH2",
        "--xoauth2-tokens",
        tokens.to_str().unwrap(),
    ]);
    let s = microsoft(&server, "ms-smtp");
    let first = oauth::token(&s, limits(5000), false).unwrap();
    assert_eq!(
        xoauth2(smtp.port, "wiki@example.org", first.access_token.expose()),
        235
    );
    assert_eq!(
        xoauth2(smtp.port, "other@example.org", first.access_token.expose()),
        535
    );
    assert_eq!(xoauth2(smtp.port, "wiki@example.org", "tok.made-up"), 535);

    // Revoked on the server side while our cache still trusts it: the caller renews once.
    std::thread::sleep(Duration::from_millis(1700));
    let cached = oauth::token(&s, limits(5000), false).unwrap();
    assert!(!cached.fresh);
    assert_eq!(
        xoauth2(smtp.port, "wiki@example.org", cached.access_token.expose()),
        535
    );
    let renewed = oauth::token(&s, limits(5000), true).unwrap();
    assert!(renewed.fresh);
    assert_eq!(
        xoauth2(smtp.port, "wiki@example.org", renewed.access_token.expose()),
        235
    );

    // Emptying the file revokes every token at once.
    fs::write(&tokens, "").unwrap();
    assert_eq!(
        xoauth2(smtp.port, "wiki@example.org", renewed.access_token.expose()),
        535
    );
    assert!(
        !server.stderr().contains("Traceback"),
        "{}",
        server.stderr()
    );
}
