//! XOAUTH2 with tokens the extension fetches itself (smtp.oauth_*): from the project's token
//! endpoint (tests/servers/token_server.py) to the fault server, which accepts only the tokens
//! that endpoint currently lists (--xoauth2-tokens).

mod common;

use std::time::Duration;

use common::token::{client_arg, TokenServer, SECRET};
use common::*;
use smtp::error::Error;
use smtp::pool;

const USER: &str = "wiki@example.org";

/// An SMTP server that offers `AUTH LOGIN XOAUTH2` only after STARTTLS, as Exchange Online does,
/// and accepts only tokens the token server lists.
fn exchange_like(tokens: &TokenServer) -> FaultServer {
    let file = tokens.tokens_file();
    FaultServer::start_tls(
        "good",
        &[
            "--starttls",
            "--auth-requires-tls",
            "--auth-user",
            USER,
            "--auth-mechs",
            "LOGIN XOAUTH2",
            "--xoauth2-tokens",
            file.to_str().unwrap(),
        ],
    )
}

fn microsoft(srv: &FaultServer, tokens: &TokenServer, client: &str) -> smtp::config::Settings {
    let ca = ca_file();
    let url = tokens.ms_url();
    srv.settings(&[
        ("cafile", &ca),
        ("auth", "XOAUTH2"),
        ("username", USER),
        ("oauth_provider", "microsoft"),
        ("oauth_tenant", common::token::TENANT),
        ("oauth_token_url", &url),
        ("oauth_client_id", client),
        ("oauth_client_secret", SECRET),
    ])
}

#[test]
fn the_first_send_fetches_the_next_ones_reuse_the_token() {
    let tokens = TokenServer::start(&["--client", &client_arg("reuse")]);
    let srv = exchange_like(&tokens);
    let s = microsoft(&srv, &tokens, "reuse");
    for n in 1..=5 {
        pool::send(&s, &simple("a@example.test", n)).unwrap_or_else(|e| panic!("{n}: {e}"));
    }
    assert_eq!(srv.wait_messages(5).len(), 5);
    assert!(srv
        .messages()
        .iter()
        .all(|m| m.tls() && m.auth_user().as_deref() == Some(USER)));
    assert_eq!(tokens.requests(), 1, "one token request for five mails");
    // Microsoft's tokens are over 2 KB: the response goes on a line of its own after
    // "AUTH XOAUTH2", not in the command (at most 512 octets).
    let t = srv.transcript_of(1);
    let at = t
        .iter()
        .position(|l| l == "C: AUTH XOAUTH2")
        .expect("AUTH XOAUTH2 alone");
    assert!(t[at + 2].len() > 2048, "{}", t[at + 2].len());
}

#[test]
fn a_cached_token_the_server_refuses_is_renewed_once() {
    // Tokens are revoked 1 s after issue while the cache would keep them longer.
    let tokens = TokenServer::start(&["--client", &client_arg("revoked"), "--revoke-after", "1"]);
    let srv = exchange_like(&tokens);
    let s = microsoft(&srv, &tokens, "revoked");
    pool::send(&s, &simple("a@example.test", 1)).expect("first");
    std::thread::sleep(Duration::from_millis(1300));
    pool::send(&s, &simple("a@example.test", 2)).expect("renewed after the refusal");
    assert_eq!(tokens.requests(), 2);
    assert_eq!(srv.wait_messages(2).len(), 2);
}

#[test]
fn a_fresh_token_the_server_refuses_names_the_three_fixes() {
    // The server knows no token at all (an empty list): a token just issued is refused, which
    // is a permission problem, not a token to renew.
    let tokens = TokenServer::start(&["--client", &client_arg("noperm")]);
    let empty = TempDir::new("empty-tokens");
    let none = empty.path().join("none");
    std::fs::write(&none, "").unwrap();
    let srv = FaultServer::start_tls(
        "good",
        &[
            "--starttls",
            "--auth-user",
            USER,
            "--auth-mechs",
            "LOGIN XOAUTH2",
            "--xoauth2-tokens",
            none.to_str().unwrap(),
        ],
    );
    let e = pool::send(
        &microsoft(&srv, &tokens, "noperm"),
        &simple("a@example.test", 1),
    )
    .unwrap_err();
    match &e {
        Error::TokenRefused { reply, .. } => assert_eq!(reply.code, 535),
        other => panic!("expected TokenRefused, got {other:?}"),
    }
    let text = e.to_string();
    for fix in [
        "SmtpClientAuthenticationDisabled $false",
        "New-ServicePrincipal",
        "SMTP.SendAsApp",
        "Add-MailboxPermission",
    ] {
        assert!(text.contains(fix), "{fix} missing: {text}");
    }
    assert_eq!(tokens.requests(), 1, "renewed a fresh token");
    assert!(srv.received().is_empty());
}

#[test]
fn token_endpoint_errors_in_plain_words_without_secrets() {
    for (fail, words) in [
        ("AADSTS7000215", "client secret"),
        ("AADSTS700016", "smtp.oauth_client_id"),
        ("AADSTS90002", "smtp.oauth_tenant"),
    ] {
        let tokens = TokenServer::start(&["--client", &client_arg("errs"), "--fail", fail]);
        let srv = exchange_like(&tokens);
        let e = pool::send(
            &microsoft(&srv, &tokens, "errs"),
            &simple("a@example.test", 1),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Token(_)), "{fail}: {e:?}");
        let text = e.to_string();
        assert!(text.contains(fail), "{fail}: {text}");
        assert!(text.contains(words), "{fail}: {words} missing in {text}");
        assert!(!text.contains(SECRET), "{fail}: the secret shows: {text}");
        assert!(srv.received().is_empty());
        assert!(
            !srv.transcript().contains("C: AUTH"),
            "{fail}: AUTH without a token"
        );
    }
}

#[test]
fn basic_authentication_refused_by_microsoft_points_to_oauth() {
    let srv = FaultServer::start(&[
        "--auth-user",
        USER,
        "--auth-pass",
        "pw",
        "--reply",
        "AUTH=550 5.7.30 Basic authentication is not supported for Client Submission",
    ]);
    let e = pool::send(
        &srv.settings(&[("auth", "LOGIN"), ("username", USER), ("password", "pw")]),
        &simple("a@example.test", 1),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("smtp.oauth_provider=microsoft"), "{text}");
    assert!(text.contains("Microsoft 365"), "{text}");
}

#[test]
fn the_administrators_oauth_token_goes_only_to_the_administrators_host() {
    let tokens = TokenServer::start(&["--client", &client_arg("pinned")]);
    let srv = exchange_like(&tokens);
    let url = tokens.ms_url();
    let port = srv.port.to_string();
    let admin: Vec<(&str, &str)> = vec![
        ("host", "127.0.0.1"),
        ("port", &port),
        ("auth", "XOAUTH2"),
        ("username", USER),
        ("oauth_provider", "microsoft"),
        ("oauth_tenant", common::token::TENANT),
        ("oauth_token_url", &url),
        ("oauth_client_id", "pinned"),
        ("oauth_client_secret", SECRET),
    ];
    let lookup = |name: &str| {
        admin
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    };
    let other = [(
        "host".to_string(),
        smtp::config::Value::Str("localhost".into()),
    )];
    let e = smtp::config::Settings::resolve(&lookup, &other).unwrap_err();
    assert!(e.to_string().contains("administrator's settings"), "{e}");
    assert_eq!(tokens.requests(), 0);
}
