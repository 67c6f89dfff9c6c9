//! Delegated OAuth (`microsoft-delegated`, `google-user`): the refresh token in the
//! administrator's file, exchanged at tests/servers/token_server.py (which rotates refresh tokens
//! with --rotate and revokes the one used, stricter than Microsoft), written back atomically, and
//! shared by several processes.
//!
//! Every test uses its own client id: the token cache is per process, shared by these tests.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use smtp::config::Secret;
use smtp::oauth::{self, Limits, OAuthError, OAuthSettings, Provider, Refusal};

mod common;

use common::token::{TokenServer, SECRET};
use common::{certs, TempDir};

fn limits() -> Limits {
    Limits {
        step: Duration::from_secs(10),
        until: None,
    }
}

fn ms_delegated(server: &TokenServer, client: &str, file: &Path) -> OAuthSettings {
    OAuthSettings {
        provider: Provider::MicrosoftDelegated,
        tenant: "common".into(),
        token_url: Some(format!(
            "https://127.0.0.1:{}/common/oauth2/v2.0/token",
            server.port
        )),
        client_id: client.into(),
        // A public client (device code sign-in): no secret.
        client_secret: Secret::default(),
        scope: None,
        key_file: None,
        user: "someone@outlook.example".into(),
        cafile: Some(certs().join("ca.pem")),
        refresh_token_file: Some(file.to_path_buf()),
    }
}

fn google_user(server: &TokenServer, client: &str, file: &Path) -> OAuthSettings {
    OAuthSettings {
        provider: Provider::GoogleUser,
        tenant: String::new(),
        token_url: Some(server.google_url()),
        client_secret: Secret::new(SECRET),
        ..ms_delegated(server, client, file)
    }
}

/// The refresh tokens the endpoint takes now.
fn valid_refresh_tokens(server: &TokenServer) -> Vec<String> {
    fs::read_to_string(server.state().join("refresh_tokens"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

fn stored(file: &Path) -> String {
    let text = fs::read_to_string(file).unwrap();
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => v["refresh_token"].as_str().unwrap().to_string(),
        Err(_) => text.lines().next().unwrap().to_string(),
    }
}

fn token_file(dir: &TempDir, content: &str) -> PathBuf {
    let f = dir.path().join("refresh-token");
    fs::write(&f, content).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o600)).unwrap();
    f
}

#[test]
fn microsoft_rotated_refresh_token_is_written_back_with_its_mode() {
    let server = TokenServer::start(&[
        "--client",
        "ms-deleg=",
        "--refresh-token",
        "rt.start",
        "--rotate",
    ]);
    let dir = TempDir::new("deleg-ms");
    let file = token_file(&dir, "rt.start\n");
    let s = ms_delegated(&server, "ms-deleg", &file);

    let t = oauth::token(&s, limits(), false).unwrap();
    assert!(t.fresh && t.access_token.expose().starts_with("tok."));
    let now_valid = valid_refresh_tokens(&server);
    assert_eq!(now_valid.len(), 1);
    assert_ne!(now_valid[0], "rt.start", "the endpoint rotated it");
    assert_eq!(stored(&file), now_valid[0], "the file holds the new token");
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Cached per process: no second request.
    let before = server.requests();
    assert!(!oauth::token(&s, limits(), false).unwrap().fresh);
    assert_eq!(server.requests(), before);
    // Renewed after a refused token: with the rotated refresh token from the file.
    assert!(oauth::token(&s, limits(), true).unwrap().fresh);
    assert_eq!(stored(&file), valid_refresh_tokens(&server)[0]);
    assert_eq!(server.counts()["refused"], serde_json::json!({}));
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
}

#[test]
fn google_user_json_file_without_rotation_stays_as_it_is() {
    let server = TokenServer::start(&[
        "--client",
        &format!("g-user={SECRET}"),
        "--refresh-token",
        "rt.google",
    ]);
    let dir = TempDir::new("deleg-g");
    let content = "{\"refresh_token\": \"rt.google\", \"account\": \"me@gmail.example\"}\n";
    let file = token_file(&dir, content);
    let t = oauth::token(&google_user(&server, "g-user", &file), limits(), false).unwrap();
    assert!(t.fresh);
    assert_eq!(fs::read_to_string(&file).unwrap(), content);
}

#[test]
fn an_expired_or_revoked_refresh_token_names_the_sign_in_command() {
    let server = TokenServer::start(&[
        "--client",
        "ms-revoked=",
        "--client",
        &format!("g-revoked={SECRET}"),
        "--refresh-token",
        "rt.other",
    ]);
    let dir = TempDir::new("deleg-revoked");
    let file = token_file(&dir, "rt.revoked\n");
    for (s, quoted) in [
        (
            ms_delegated(&server, "ms-revoked", &file),
            "AADSTS700082: The refresh token has expired due to inactivity",
        ),
        (
            google_user(&server, "g-revoked", &file),
            "Token has been expired or revoked.",
        ),
    ] {
        let e = oauth::token(&s, limits(), false).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                e,
                OAuthError::Endpoint {
                    refusal: Refusal::SignInAgain,
                    ..
                }
            ),
            "{e:?}"
        );
        for w in [
            quoted,
            "smtp-doctor oauth-login",
            "smtp.oauth_refresh_token_file",
        ] {
            assert!(msg.contains(w), "{w:?} in {msg}");
        }
        assert!(!msg.contains("clock"), "{msg}");
        assert_eq!(stored(&file), "rt.revoked", "the file is left alone");
    }
}

#[test]
fn a_failed_write_back_keeps_the_last_good_token() {
    let server = TokenServer::start(&[
        "--client",
        "ms-ro=",
        "--refresh-token",
        "rt.kept",
        "--rotate",
    ]);
    let dir = TempDir::new("deleg-ro");
    let file = token_file(&dir, "rt.kept\n");
    // The write-back's temporary file cannot be made (its name is taken by a directory; a
    // read-only directory does not stop root, who runs these tests in the containers).
    let blocker = dir
        .path()
        .join(format!(".refresh-token.{}.tmp", std::process::id()));
    fs::create_dir(&blocker).unwrap();
    let t = oauth::token(&ms_delegated(&server, "ms-ro", &file), limits(), false).unwrap();
    assert!(t.fresh, "the access token is good for this send");
    assert_eq!(fs::read_to_string(&file).unwrap(), "rt.kept\n");
    assert!(blocker.is_dir());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn settings_are_checked_before_any_request() {
    let server = TokenServer::start(&[]);
    let dir = TempDir::new("deleg-check");
    let file = dir.path().join("absent");
    let s = ms_delegated(&server, "ms-check", &file);
    let msg = oauth::token(&s, limits(), false).unwrap_err().to_string();
    assert!(msg.contains("smtp-doctor oauth-login"), "{msg}");
    let msg = oauth::token(
        &OAuthSettings {
            refresh_token_file: None,
            ..s.clone()
        },
        limits(),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("smtp.oauth_refresh_token_file"), "{msg}");
    let msg = oauth::token(
        &OAuthSettings {
            client_secret: Secret::default(),
            ..google_user(&server, "g-check", &file)
        },
        limits(),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("client's secret"), "{msg}");
    assert_eq!(server.requests(), 0);
    assert_eq!(
        oauth::delegated_token_url(&OAuthSettings {
            token_url: None,
            tenant: String::new(),
            ..s.clone()
        }),
        "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    );
    assert_eq!(
        Provider::MicrosoftDelegated.default_scope(),
        Some("https://outlook.office.com/SMTP.Send offline_access")
    );
}

// ---------------------------------------------------------------------------------------------
// Several processes, one token file

const CHILD: &str = "SMTP_TEST_REFRESH_CHILD";
const REFRESHES: usize = 6;

/// Run by `several_processes_share_one_token_file` in child processes; a no-op otherwise.
#[test]
fn refresh_child() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let mut parts = spec.split('\n');
    let (port, file, ca) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let s = OAuthSettings {
        token_url: Some(format!("https://127.0.0.1:{port}/common/oauth2/v2.0/token")),
        // The parent's test CA (each test binary makes its own).
        cafile: Some(PathBuf::from(ca)),
        ..ms_delegated_at(Path::new(file))
    };
    for i in 0..REFRESHES {
        oauth::token(&s, limits(), true)
            .unwrap_or_else(|e| panic!("refresh {i} in process {}: {e}", std::process::id()));
    }
}

fn ms_delegated_at(file: &Path) -> OAuthSettings {
    OAuthSettings {
        provider: Provider::MicrosoftDelegated,
        tenant: "common".into(),
        token_url: None,
        client_id: "ms-shared".into(),
        client_secret: Secret::default(),
        scope: None,
        key_file: None,
        user: "someone@outlook.example".into(),
        cafile: None,
        refresh_token_file: Some(file.to_path_buf()),
    }
}

/// Four processes refresh at once against an endpoint that revokes each refresh token when it
/// is used: every refresh succeeds (each process reads the token the previous one wrote), and
/// the file ends with the one valid token.
#[test]
fn several_processes_share_one_token_file() {
    const PROCESSES: usize = 4;
    let server = TokenServer::start(&[
        "--client",
        "ms-shared=",
        "--refresh-token",
        "rt.shared",
        "--rotate",
    ]);
    let dir = TempDir::new("deleg-shared");
    let file = token_file(&dir, "rt.shared\n");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "refresh_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(
                    CHILD,
                    format!(
                        "{}\n{}\n{}",
                        server.port,
                        file.display(),
                        certs().join("ca.pem").display()
                    ),
                )
                .output_spawn()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a child failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let counts = server.counts();
    assert_eq!(counts["issued"], (PROCESSES * REFRESHES) as u64, "{counts}");
    assert_eq!(counts["refused"], serde_json::json!({}), "{counts}");
    assert_eq!(vec![stored(&file)], valid_refresh_tokens(&server));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

trait SpawnPiped {
    fn output_spawn(&mut self) -> std::process::Child;
}

impl SpawnPiped for Command {
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Signing in once: smtp-doctor oauth-login's flows

#[test]
fn device_code_sign_in_waits_through_pending_and_slow_down_then_stores_the_token() {
    let server = TokenServer::start(&[
        "--client",
        "ms-device=",
        "--device-pending",
        "2",
        "--device-slow-down",
    ]);
    let dir = TempDir::new("login-device");
    let file = dir.path().join("new-token");
    let s = ms_delegated(&server, "ms-device", &file);
    let code = oauth::login::device_code(&s, limits()).unwrap();
    assert_eq!(
        code.verification_uri,
        "https://microsoft.example/devicelogin"
    );
    assert!(code.user_code.starts_with("TEST-"), "{code:?}");
    assert!(code.message.as_deref().unwrap().contains(&code.user_code));
    let mut heard = Vec::new();
    oauth::login::device_code_finish(&s, &code, limits(), &mut |m| heard.push(m.to_string()))
        .unwrap();
    assert_eq!(
        heard,
        [
            "waiting for the sign-in",
            "the endpoint asked to poll more slowly"
        ]
    );
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(valid_refresh_tokens(&server).contains(&stored(&file)));
    // The stored token works for sending.
    assert!(oauth::token(&s, limits(), false).unwrap().fresh);
}

#[test]
fn device_code_expired_or_declined_says_so_and_writes_nothing() {
    for outcome in ["expired", "denied"] {
        let server = TokenServer::start(&[
            "--client",
            "ms-device-x=",
            "--device-pending",
            "0",
            "--device-outcome",
            outcome,
        ]);
        let dir = TempDir::new("login-device-x");
        let file = dir.path().join("t");
        let s = ms_delegated(&server, "ms-device-x", &file);
        let code = oauth::login::device_code(&s, limits()).unwrap();
        let e = oauth::login::device_code_finish(&s, &code, limits(), &mut |_| {}).unwrap_err();
        let want = if outcome == "expired" {
            "expired"
        } else {
            "declined"
        };
        assert!(e.to_string().contains(want), "{outcome}: {e}");
        assert!(!file.exists());
    }
}

/// Plays the browser: asks for a favicon first (ignored), then comes back with `query`.
fn browser(url: &str, port: u16, query: impl Fn(&str) -> String) -> (String, String) {
    use std::io::{Read, Write};
    let state = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("state="))
        .unwrap()
        .to_string();
    let get = |target: &str| {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(c, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        out
    };
    let favicon = get("/favicon.ico");
    (favicon, get(&format!("/?{}", query(&state))))
}

#[test]
fn google_loopback_sign_in_exchanges_the_code_with_pkce_and_stores_the_token() {
    let server = TokenServer::start(&[
        "--client",
        &format!("g-login={SECRET}"),
        "--auth-code",
        "code.123",
    ]);
    let dir = TempDir::new("login-loopback");
    let file = dir.path().join("t");
    let s = google_user(&server, "g-login", &file);
    let mut browsing = None;
    let mut url_seen = String::new();
    oauth::login::loopback(
        &s,
        Some("https://accounts.example/auth"),
        0,
        Duration::from_secs(20),
        limits(),
        &mut |url, port| {
            url_seen = url.to_string();
            let url = url.to_string();
            // The browser runs while the listener waits: on its own thread.
            browsing = Some(std::thread::spawn(move || {
                browser(&url, port, |state| format!("state={state}&code=code.123"))
            }));
        },
    )
    .unwrap();
    for w in [
        "https://accounts.example/auth?client_id=g-login",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
        "access_type=offline",
        "code_challenge_method=S256",
        "scope=https%3A%2F%2Fmail.google.com%2F",
    ] {
        assert!(url_seen.contains(w), "{w:?} in {url_seen}");
    }
    let (favicon, page) = browsing.unwrap().join().unwrap();
    assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
    assert!(page.contains("Signed in"), "{page}");
    assert!(valid_refresh_tokens(&server).contains(&stored(&file)));
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn google_loopback_refuses_a_wrong_state() {
    let server = TokenServer::start(&[
        "--client",
        &format!("g-login-x={SECRET}"),
        "--auth-code",
        "code.9",
    ]);
    let dir = TempDir::new("login-loopback-x");
    let file = dir.path().join("t");
    let s = google_user(&server, "g-login-x", &file);
    let e = oauth::login::loopback(
        &s,
        None,
        0,
        Duration::from_secs(20),
        limits(),
        &mut |url, port| {
            let url = url.to_string();
            std::thread::spawn(move || browser(&url, port, |_| "state=forged&code=code.9".into()));
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("state"), "{e}");
    assert!(!file.exists());
    assert_eq!(server.counts()["issued"], 0);
}
