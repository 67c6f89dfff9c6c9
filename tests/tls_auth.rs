//! TLS (STARTTLS and implicit) with the test CA, certificate problems, and authentication.

mod common;

use std::fs;
use std::time::Duration;

use common::*;
use smtp::error::{Error, NetError, Stage, TlsProblem};
use smtp::pool;

const USER: &str = "wiki";
const PASS: &str = "S3cret-Pass";

fn tls_problem(e: &Error) -> TlsProblem {
    match e {
        Error::Network(NetError::Tls { problem, .. }) => problem.clone(),
        other => panic!("expected a TLS problem, got {other:?}: {other}"),
    }
}

/// The TLS problem of a send over STARTTLS to a server with the test certificate `cert`,
/// trusting the test CA (smtp.cafile); nothing may arrive.
fn starttls_failure(cert: &str) -> Error {
    let srv = FaultServer::start_tls(cert, &["--starttls"]);
    let e = pool::send(
        &srv.settings(&[("cafile", &ca_file())]),
        &simple("a@example.test", 1),
    )
    .unwrap_err();
    assert!(srv.received().is_empty());
    e
}

/// Auth-enabled server arguments (plus `extra`).
fn auth_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--starttls", "--auth-user", USER, "--auth-pass", PASS];
    v.extend_from_slice(extra);
    v
}

fn assert_no_secret(e: &Error, secret: &str) {
    let text = e.to_string();
    assert!(!text.contains(secret), "the error shows the secret: {text}");
    assert!(
        !format!("{e:?}").contains(secret),
        "Debug shows the secret: {e:?}"
    );
    for b64 in [
        base64_encode(secret.as_bytes()),
        base64_encode(format!("\0{USER}\0{secret}").as_bytes()),
    ] {
        assert!(
            !text.contains(&b64),
            "the error shows the secret in base64: {text}"
        );
    }
}

#[test]
fn starttls_with_cafile() {
    let srv = FaultServer::start_tls("good", &["--starttls"]);
    let msg = simple("a@example.test", 1);
    pool::send(&srv.settings(&[("cafile", &ca_file())]), &msg).expect("send over STARTTLS");
    let m = &srv.wait_messages(1)[0];
    assert!(m.tls());
    assert_eq!(m.eml, msg.data);
    // EHLO again after the handshake, as RFC 3207 wants.
    let t = srv.transcript_of(1);
    let tls_at = t
        .iter()
        .position(|l| l == "TLS")
        .expect("TLS in transcript");
    assert!(t[..tls_at].iter().any(|l| l == "C: STARTTLS"), "{t:#?}");
    assert!(
        t[tls_at..].iter().any(|l| l.starts_with("C: EHLO ")),
        "{t:#?}"
    );
    assert!(
        !t[..tls_at].iter().any(|l| l.starts_with("C: MAIL")),
        "{t:#?}"
    );
}

#[test]
fn starttls_by_host_name() {
    // "localhost" may resolve to ::1 first (nothing listens there): the next address is tried,
    // and the certificate's DNS name is checked.
    let srv = FaultServer::start_tls("good", &["--starttls"]);
    let s = srv.settings(&[("host", "localhost"), ("cafile", &ca_file())]);
    pool::send(&s, &simple("a@example.test", 1)).expect("send to localhost over STARTTLS");
    assert!(srv.wait_messages(1)[0].tls());
}

#[test]
fn implicit_tls_with_cafile() {
    let srv = FaultServer::start_tls("good", &["--tls", "implicit"]);
    let s = srv.settings(&[("host", "ssl://127.0.0.1"), ("cafile", &ca_file())]);
    assert!(s.implicit_tls);
    let msg = simple("a@example.test", 1);
    pool::send(&s, &msg).expect("send over implicit TLS");
    let m = &srv.wait_messages(1)[0];
    assert!(m.tls());
    assert_eq!(m.eml, msg.data);
    assert!(!srv.transcript().contains("C: STARTTLS"));
}

#[test]
fn no_cafile_means_unknown_issuer() {
    let srv = FaultServer::start_tls("good", &["--starttls"]);
    let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
    // The server sends its certificate alone: its issuer, our test CA, is unknown here.
    assert_eq!(
        tls_problem(&e),
        TlsProblem::MissingIntermediate {
            issuer: Some("php-smtp Test CA".into())
        }
    );
    assert_eq!(e.stage(), Some(Stage::TlsHandshake));
    assert!(e.to_string().contains("smtp.cafile"), "{e}");
    assert!(srv.messages().is_empty());
    assert!(!srv.transcript().contains("C: MAIL"));
}

#[test]
fn implicit_tls_without_cafile_is_unknown_issuer() {
    let srv = FaultServer::start_tls("good", &["--tls", "implicit"]);
    let s = srv.settings(&[("host", "ssl://127.0.0.1")]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert!(
        matches!(tls_problem(&e), TlsProblem::MissingIntermediate { .. }),
        "{e:?}"
    );
}

#[test]
fn wrong_name_is_name_mismatch_with_plain_host_names() {
    // The names are shown to the user as what to put in smtp.host: they must be host names,
    // not rustls's debug form (DnsName("...")).
    let e = starttls_failure("wrongname");
    assert_eq!(
        tls_problem(&e),
        TlsProblem::NameMismatch(vec!["wrong.example.test".into()])
    );
    let text = e.to_string();
    assert!(
        text.contains("not valid for the name \"127.0.0.1\""),
        "{text}"
    );
    assert!(
        text.contains("it is valid for: wrong.example.test. Set smtp.host"),
        "{text}"
    );
}

#[test]
fn expired_certificate() {
    let e = starttls_failure("expired");
    assert_eq!(tls_problem(&e), TlsProblem::Expired);
    assert!(e.to_string().contains("has expired"), "{e}");
}

#[test]
fn self_signed_certificate_is_unknown_issuer() {
    let srv = FaultServer::start_tls("selfsigned", &["--tls", "implicit"]);
    let s = srv.settings(&[("host", "ssl://127.0.0.1"), ("cafile", &ca_file())]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(tls_problem(&e), TlsProblem::SelfSigned);
    assert!(e.to_string().contains("self-signed"), "{e}");
    assert!(e.to_string().contains("smtp.cafile"), "{e}");
}

/// Sends with `auth` over STARTTLS and returns the recorded message and the transcript.
fn auth_send(auth: &str, password: &str, server_extra: &[&str]) -> (Recorded, String) {
    let srv = FaultServer::start_tls("good", &auth_args(server_extra));
    let s = srv.settings(&[
        ("cafile", &ca_file()),
        ("auth", auth),
        ("username", USER),
        ("password", password),
    ]);
    let msg = simple("a@example.test", 1);
    pool::send(&s, &msg).unwrap_or_else(|e| panic!("auth={auth}: {e}"));
    let m = srv.wait_messages(1).remove(0);
    assert_eq!(m.eml, msg.data);
    assert!(m.tls());
    (m, srv.transcript())
}

#[test]
fn auth_plain() {
    let (m, t) = auth_send("PLAIN", PASS, &[]);
    assert_eq!(m.auth_user().as_deref(), Some(USER));
    assert!(t.contains("C: AUTH PLAIN "), "{t}");
}

#[test]
fn auth_login() {
    let (m, t) = auth_send("LOGIN", PASS, &[]);
    assert_eq!(m.auth_user().as_deref(), Some(USER));
    assert!(t.contains("C: AUTH LOGIN"), "{t}");
    assert!(t.contains("S: 334 UGFzc3dvcmQ6"), "{t}");
}

#[test]
fn auth_xoauth2_with_the_token_as_password() {
    let token = "ya29.test-token";
    let (m, t) = auth_send("XOAUTH2", token, &["--auth-pass", token]);
    assert_eq!(m.auth_user().as_deref(), Some(USER));
    assert!(t.contains("C: AUTH XOAUTH2 "), "{t}");
}

#[test]
fn auth_auto_picks_what_the_server_offers() {
    let (m, t) = auth_send("1", PASS, &[]);
    assert_eq!(m.auth_user().as_deref(), Some(USER));
    assert!(t.contains("C: AUTH PLAIN "), "{t}");
    let (m, t) = auth_send("1", PASS, &["--auth-mechs", "LOGIN"]);
    assert_eq!(m.auth_user().as_deref(), Some(USER));
    assert!(t.contains("C: AUTH LOGIN"), "{t}");
}

#[test]
fn auth_when_the_server_requires_tls_and_auth() {
    let (m, _) = auth_send("1", PASS, &["--auth-requires-tls", "--require-auth"]);
    assert_eq!(m.auth_user().as_deref(), Some(USER));
}

#[test]
fn wrong_password_is_rejected_at_auth_without_showing_it() {
    let wrong = "Wrong-Pa55word";
    for (mech, server_extra) in [
        ("PLAIN", &[][..]),
        ("LOGIN", &[][..]),
        ("XOAUTH2", &[][..]),
        ("1", &["--auth-mechs", "LOGIN"][..]),
    ] {
        let srv = FaultServer::start_tls("good", &auth_args(server_extra));
        let s = srv.settings(&[
            ("cafile", &ca_file()),
            ("auth", mech),
            ("username", USER),
            ("password", wrong),
        ]);
        let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
        match &e {
            Error::Rejected { stage, reply, .. } => {
                assert_eq!(*stage, Stage::Auth, "{mech}");
                assert_eq!(reply.code, 535, "{mech}: {e}");
            }
            other => panic!("{mech}: expected Rejected, got {other:?}: {other}"),
        }
        assert_eq!(e.smtp_code(), 535);
        let text = e.to_string();
        assert!(text.contains("authentication failed"), "{text}");
        assert!(text.contains("535 5.7.8"), "{text}");
        assert_no_secret(&e, wrong);
        assert!(srv.messages().is_empty());
        assert!(!srv.transcript().contains("C: MAIL"), "{mech}");
    }
}

#[test]
fn auth_happens_only_after_starttls() {
    // The server offers AUTH before TLS too; the client must still upgrade first.
    let (_, t) = auth_send("1", PASS, &[]);
    let lines: Vec<&str> = t.lines().collect();
    let tls_at = lines.iter().position(|l| *l == "1 TLS").expect("TLS");
    let auth_at = lines
        .iter()
        .position(|l| l.starts_with("1 C: AUTH"))
        .expect("AUTH");
    assert!(tls_at < auth_at, "{t}");
    assert_eq!(
        lines.iter().filter(|l| l.contains("C: AUTH")).count(),
        1,
        "{t}"
    );
}

#[test]
fn password_never_sent_in_clear_to_a_non_loopback_name() {
    // A name that reaches 127.0.0.1 through /etc/hosts but is not "localhost": the extension
    // judges by the configured name, so it must treat it as a remote server.
    let Some(alias) = loopback_alias() else {
        eprintln!("skipped: /etc/hosts has no non-localhost name for 127.0.0.1");
        return;
    };
    let base = |port: u16| {
        settings(
            port,
            &[
                ("host", alias.as_str()),
                ("cafile", &ca_file()),
                ("auth", "1"),
                ("username", USER),
                ("password", PASS),
            ],
        )
    };
    assert!(!base(25).host_is_loopback());

    // No STARTTLS offered at all: refused before any AUTH.
    let srv = FaultServer::start(&["--auth-user", USER, "--auth-pass", PASS]);
    let e = pool::send(&base(srv.port), &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(tls_problem(&e), TlsProblem::NotOffered, "{e}");
    assert!(
        e.to_string().contains("always before a password goes out"),
        "{e}"
    );
    assert!(
        !srv.transcript().contains("C: AUTH"),
        "{}",
        srv.transcript()
    );

    // STARTTLS offered but refused: no fallback to clear text.
    let srv = FaultServer::start_tls(
        "good",
        &auth_args(&["--reply", "STARTTLS=454 4.7.0 TLS not available"]),
    );
    let e = pool::send(&base(srv.port), &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(e.smtp_code(), 454, "{e}");
    assert!(
        !srv.transcript().contains("C: AUTH"),
        "{}",
        srv.transcript()
    );

    // STARTTLS offered, but the certificate is not for this name: no AUTH either.
    let srv = FaultServer::start_tls("good", &auth_args(&[]));
    let e = pool::send(&base(srv.port), &simple("a@example.test", 1)).unwrap_err();
    assert!(
        matches!(tls_problem(&e), TlsProblem::NameMismatch(_)),
        "{e}"
    );
    assert!(
        !srv.transcript().contains("C: AUTH"),
        "{}",
        srv.transcript()
    );
    assert!(srv.messages().is_empty());
}

#[test]
fn clear_text_auth_to_loopback_is_allowed() {
    // 127.0.0.1 without TLS: nothing leaves the machine, so AUTH goes ahead.
    let srv = FaultServer::start(&["--auth-user", USER, "--auth-pass", PASS]);
    let s = srv.settings(&[("auth", "1"), ("username", USER), ("password", PASS)]);
    pool::send(&s, &simple("a@example.test", 1)).expect("send");
    let m = &srv.wait_messages(1)[0];
    assert!(!m.tls());
    assert_eq!(m.auth_user().as_deref(), Some(USER));
}

#[test]
fn implicit_tls_to_a_plain_server_fails_fast_with_a_hint() {
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&[("host", "ssl://127.0.0.1"), ("timeout", "2")]);
    let (e, _) = send_fails(&s, &simple("a@example.test", 1), Duration::from_secs(2));
    assert_eq!(tls_problem(&e), TlsProblem::NotTls);
    let text = e.to_string();
    assert!(text.contains("speaks plain text"), "{text}");
    assert!(text.contains("Remove the ssl://"), "{text}");
}

#[test]
fn plain_client_to_an_implicit_tls_port_times_out_with_a_hint() {
    let srv = FaultServer::start_tls("good", &["--tls", "implicit"]);
    let s = srv.settings(&[("timeout", "1")]);
    let (e, _) = send_fails(&s, &simple("a@example.test", 1), Duration::from_secs(1));
    assert!(
        matches!(
            e,
            Error::Timeout {
                stage: Stage::Greeting,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("ssl://"), "{e}");
}

#[test]
fn large_message_over_starttls() {
    let mut body = Vec::new();
    let mut i = 0u32;
    while body.len() < 1024 * 1024 {
        body.extend_from_slice(format!(".{i:08} {}\r\n", "y".repeat(60)).as_bytes());
        i += 1;
    }
    let srv = FaultServer::start_tls("good", &["--starttls"]);
    let msg = message(
        "big@example.test",
        "large",
        &body,
        "<large.tls@test.example>",
    );
    pool::send(&srv.settings(&[("cafile", &ca_file())]), &msg).expect("send 1 MB over TLS");
    let m = &srv.wait_messages(1)[0];
    assert!(m.tls());
    assert!(m.eml == msg.data, "large message differs");
}

/// A STARTTLS server that sends, in the same write as its "220" to STARTTLS, a fake EHLO reply
/// in clear text (a man in the middle can do this). After the handshake it behaves normally and
/// writes the message it gets to OUT_DIR/message.eml.
const STARTTLS_INJECTION_SERVER: &str = r#"
import os, socket, ssl, sys
cert, key = sys.argv[1], sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(5)
print("READY %d" % ls.getsockname()[1], flush=True)
ls.settimeout(30)
c, _ = ls.accept()
c.settimeout(10)
c.sendall(b"220 inject.test ESMTP\r\n")
f = c.makefile("rb")
def cmd():
    line = f.readline()
    if not line:
        sys.exit(0)
    return line.decode().strip().upper()
assert cmd().startswith("EHLO")
c.sendall(b"250-inject.test\r\n250 STARTTLS\r\n")
assert cmd() == "STARTTLS"
c.sendall(b"220 2.0.0 Go ahead\r\n250-evil.test\r\n250 8BITMIME\r\n")
t = ctx.wrap_socket(c, server_side=True)
f = t.makefile("rb")
while True:
    v = cmd()
    if v.startswith("EHLO"):
        t.sendall(b"250-inject.test\r\n250 PIPELINING\r\n")
    elif v.startswith("MAIL") or v.startswith("RCPT") or v.startswith("RSET") or v.startswith("NOOP"):
        t.sendall(b"250 2.0.0 Ok\r\n")
    elif v == "DATA":
        t.sendall(b"354 go on\r\n")
        data = b""
        while True:
            line = f.readline()
            if line in (b".\r\n", b""):
                break
            data += line
        with open(os.path.join(os.environ["OUT_DIR"], "message.eml"), "wb") as out:
            out.write(data)
        t.sendall(b"250 2.0.0 Ok: queued\r\n")
    elif v == "QUIT":
        t.sendall(b"221 2.0.0 Bye\r\n")
        break
    else:
        t.sendall(b"500 5.5.2 what\r\n")
"#;

#[test]
fn clear_text_sent_with_the_starttls_reply_is_not_trusted() {
    // RFC 3207 section 6 / CVE-2011-0411 class: bytes that arrived before the handshake must
    // not be read as replies after it. Here they would be taken as the reply to the second
    // EHLO, and every later reply would be one behind.
    let c = certs();
    let srv = PyScript::start(
        STARTTLS_INJECTION_SERVER,
        &[
            c.join("good.pem").to_str().unwrap(),
            c.join("good.key").to_str().unwrap(),
        ],
    );
    let msg = simple("a@example.test", 1);
    let r = pool::send(&srv.settings(&[("cafile", &ca_file())]), &msg);
    // Either refusing the connection or ignoring the injected bytes is fine; acting on them
    // is not.
    match r {
        Ok(()) => {
            let got = wait_until(WAIT, || fs::read(srv.out_dir().join("message.eml")).ok())
                .expect("message recorded");
            assert_eq!(got, dot_stuff_body(&msg.data));
        }
        Err(e) => assert!(
            matches!(e, Error::Protocol { .. }),
            "the injected clear-text reply was taken as a reply after TLS: {e:?}: {e}\n{}",
            srv.stderr()
        ),
    }
}

/// The data the inline server stores: still dot-stuffed, without the final dot line.
fn dot_stuff_body(data: &[u8]) -> Vec<u8> {
    let mut v = smtp::transport::txn::dot_stuff(data);
    v.truncate(v.len() - 3);
    v
}

#[test]
fn a_self_signed_certificate_made_the_usual_way_is_a_ca_certificate() {
    // `openssl req -x509 -newkey ...` with openssl's defaults: CA:TRUE. Trusting it through
    // smtp.cafile does not help: a CA certificate cannot identify a server. The message says
    // so in words, not in rustls' Debug text.
    let srv = FaultServer::start_tls("usual", &["--tls", "implicit"]);
    let usual = certs().join("usual.pem").to_string_lossy().into_owned();
    let s = srv.settings(&[("host", "ssl://127.0.0.1"), ("cafile", &usual)]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(tls_problem(&e), TlsProblem::CaUsedAsEndEntity, "{e}");
    let text = e.to_string();
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(
        text.contains("basicConstraints=critical,CA:FALSE"),
        "{text}"
    );
    for debug in ["Other(", "OtherError", "CaUsedAsEndEntity"] {
        assert!(!text.contains(debug), "Debug text in: {text}");
    }
    // Without the cafile: the same sentence (the CA flag is what is wrong).
    let s = srv.settings(&[("host", "ssl://127.0.0.1")]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert!(
        matches!(
            tls_problem(&e),
            TlsProblem::CaUsedAsEndEntity | TlsProblem::SelfSigned
        ),
        "{e:?}"
    );
    assert!(srv.received().is_empty());
}

#[test]
fn a_server_that_sends_no_intermediate_certificate() {
    let e = starttls_failure("leaf_inter");
    assert_eq!(
        tls_problem(&e),
        TlsProblem::MissingIntermediate {
            issuer: Some("php-smtp Test Intermediate".into())
        }
    );
    let text = e.to_string();
    assert!(
        text.contains("the server sent no intermediate certificate"),
        "{text}"
    );
    assert!(text.contains("full chain"), "{text}");
    // The same leaf with its intermediate: trusted.
    let srv = FaultServer::start_tls("leaf_inter_chain", &["--starttls"]);
    pool::send(
        &srv.settings(&[("cafile", &ca_file())]),
        &simple("a@example.test", 2),
    )
    .expect("full chain");
    assert!(srv.wait_messages(1)[0].tls());
}

/// A TLS "server" that answers the ClientHello with a fatal alert of its own.
const ALERT_SERVER: &str = r#"
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print("READY %d" % s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, int(sys.argv[1])]))
    c.close()
"#;

#[test]
fn a_server_that_fails_its_own_handshake_is_not_told_to_use_ssl() {
    // alert 80 = internal_error: the server's TLS is broken, not our prefix.
    let srv = PyScript::start(ALERT_SERVER, &["80"]);
    let s = srv.settings(&[("host", "ssl://127.0.0.1")]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(
        tls_problem(&e),
        TlsProblem::ServerAlert("internal_error".into())
    );
    let text = e.to_string();
    assert!(text.contains("aborted the TLS handshake itself"), "{text}");
    assert!(text.contains("server's side"), "{text}");
    assert!(!text.contains("ssl://"), "{text}");
}

/// A "TLS server" that promises a 16 KB handshake record and then sends it one byte every
/// 0.2 s: each read gets something, the handshake never ends.
const TRICKLE_SERVER: &str = r#"
import socket, threading, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print("READY %d" % s.getsockname()[1], flush=True)
def trickle(c):
    try:
        c.recv(65536)
        c.sendall(bytes([0x16, 0x03, 0x03, 0x40, 0x00]))
        for _ in range(600):
            time.sleep(0.2)
            c.sendall(b"\x02")
    except OSError:
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=trickle, args=(c,), daemon=True).start()
"#;

#[test]
fn a_trickling_tls_peer_cannot_stretch_the_call() {
    let srv = PyScript::start(TRICKLE_SERVER, &[]);
    // Without the bound the peer would keep the handshake going for two minutes.
    for (timeout, max_time) in [("1.5", "10"), ("10", "1.5")] {
        let s = srv.settings(&[
            ("host", "ssl://127.0.0.1"),
            ("timeout", timeout),
            ("max_time", max_time),
        ]);
        let (e, took) = send_fails(
            &s,
            &simple("a@example.test", 1),
            Duration::from_millis(1500),
        );
        assert!(
            took > Duration::from_millis(1200),
            "timeout {timeout}, max_time {max_time}: gave up early: {took:?}"
        );
        assert!(
            matches!(
                e,
                Error::Timeout {
                    stage: Stage::TlsHandshake,
                    ..
                }
            ),
            "{e:?}"
        );
    }
}

#[test]
fn starttls_off_and_auth_only_after_starttls() {
    // The server offers AUTH only after STARTTLS; smtp.starttls=off keeps the connection plain
    // (allowed to loopback). The message says why there is no AUTH, not "turn smtp.auth off".
    let srv = FaultServer::start_tls("good", &auth_args(&["--auth-requires-tls"]));
    let s = srv.settings(&[
        ("starttls", "off"),
        ("auth", "1"),
        ("username", USER),
        ("password", PASS),
    ]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    match &e {
        Error::AuthUnavailable { tls_skipped, .. } => assert!(tls_skipped, "{e:?}"),
        other => panic!("expected AuthUnavailable, got {other:?}"),
    }
    let text = e.to_string();
    assert!(text.contains("before STARTTLS"), "{text}");
    assert!(text.contains("smtp.starttls=auto"), "{text}");
    assert!(!text.contains("turn smtp.auth off"), "{text}");
    assert!(!srv.transcript().contains("C: AUTH"));
}

#[test]
fn a_new_connection_resumes_the_tls_session_of_the_last_one() {
    // A reconnect after an idle close skips the full handshake (rustls' session cache, kept per
    // process with the TLS configuration).
    use smtp::transport::{Budget, Connection};
    let srv = FaultServer::start_tls("good", &["--tls", "implicit"]);
    let s = srv.settings(&[("host", "ssl://127.0.0.1"), ("cafile", &ca_file())]);
    let budget = Budget::new(std::time::Duration::from_secs(5), None);
    let first = Connection::open(&s, &budget).expect("first");
    first.quit();
    let second = Connection::open(&s, &budget).expect("second");
    assert!(second.tls_resumed(), "the second handshake was a full one");
    second.quit();
}
