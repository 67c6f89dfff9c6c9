//! The settings rules, one behaviour per test.

use super::*;

fn ini<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }
}

fn opts(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[test]
fn defaults_are_localhost_port_25_no_auth() {
    let s = Settings::resolve(&ini(&[]), &[]).unwrap();
    assert_eq!(s.host, "localhost");
    assert_eq!(s.port, 25);
    assert!(!s.implicit_tls);
    assert_eq!(s.auth, AuthMode::Off);
    assert_eq!(s.timeout, Duration::from_secs(10));
    assert_eq!(s.localhost, system_hostname());
    assert_eq!(s.idhost, system_hostname());
}

#[test]
fn ssl_prefix_means_implicit_tls_on_465() {
    for prefix in ["ssl://", "tls://", "SSL://"] {
        let host = format!("{prefix}smtp.example.org");
        let s = Settings::resolve(&ini(&[("host", &host)]), &[]).unwrap();
        assert_eq!(s.host, "smtp.example.org");
        assert!(s.implicit_tls);
        assert_eq!(s.port, 465);
    }
    let s = Settings::resolve(&ini(&[("host", "ssl://h"), ("port", "2465")]), &[]).unwrap();
    assert_eq!(s.port, 2465);
}

#[test]
fn wgsmtp_array_overrides_ini() {
    let options = opts(&[
        ("host", Value::Str("ssl://mail.example.org".into())),
        ("IDHost", Value::Str("wiki.example.org".into())),
        ("port", Value::Int(587)),
        ("auth", Value::Bool(true)),
        ("username", Value::Str("wiki".into())),
        ("password", Value::Str("s3cret".into())),
        ("localhost", Value::Null),
    ]);
    let s = Settings::resolve(&ini(&[("localhost", "web1.example.org")]), &options).unwrap();
    assert_eq!(s.host, "mail.example.org");
    assert_eq!(s.port, 587);
    assert_eq!(s.auth, AuthMode::Auto);
    assert_eq!(s.idhost, "wiki.example.org");
    assert_eq!(s.localhost, "web1.example.org", "null keeps the ini value");
    assert_eq!(s.password.expose(), "s3cret");
    assert!(
        !format!("{s:?}").contains("s3cret"),
        "Debug must mask the password"
    );
}

#[test]
fn unknown_option_is_an_error() {
    let e = Settings::resolve(&ini(&[]), &opts(&[("hots", Value::Str("x".into()))])).unwrap_err();
    assert!(e.to_string().contains("unknown option \"hots\""), "{e}");
}

#[test]
fn auth_accepts_mechanism_names_and_needs_a_user() {
    let s = Settings::resolve(&ini(&[("auth", "login"), ("username", "u")]), &[]).unwrap();
    assert_eq!(s.auth, AuthMode::Only(Mechanism::Login));
    assert!(Settings::resolve(&ini(&[("auth", "1")]), &[]).is_err());
    assert!(Settings::resolve(&ini(&[("auth", "CRAM-MD5"), ("username", "u")]), &[]).is_err());
}

#[test]
fn bad_values_are_refused_with_their_name() {
    for (name, value) in [
        ("port", "smtp"),
        ("port", "70000"),
        ("timeout", "0"),
        ("timeout", "abc"),
        ("host", "smtp://x"),
        ("host", ""),
        ("idhost", "a b"),
    ] {
        let e = Settings::resolve(&ini(&[(name, value)]), &[]).unwrap_err();
        assert!(e.to_string().contains(name), "{name}={value}: {e}");
    }
}

#[test]
fn starttls_modes() {
    let mode = |v: &str| Settings::resolve(&ini(&[("starttls", v)]), &[]).map(|s| s.starttls);
    assert_eq!(mode("auto").unwrap(), StartTls::Auto);
    assert_eq!(mode("REQUIRED").unwrap(), StartTls::Required);
    assert_eq!(mode("off").unwrap(), StartTls::Off);
    assert_eq!(
        mode("").unwrap(),
        StartTls::Off,
        "php.ini's unquoted off arrives as \"\""
    );
    assert!(mode("maybe").unwrap_err().to_string().contains("starttls"));
}

#[test]
fn password_from_file_or_environment() {
    let dir = std::env::temp_dir().join(format!("php-smtp-pw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pw");
    std::fs::write(&file, "from-file\n").unwrap();
    let path = file.to_str().unwrap();
    let s = Settings::resolve(&ini(&[("password_file", path)]), &[]).unwrap();
    assert_eq!(s.password.expose(), "from-file");
    let s = Settings::resolve(
        &ini(&[("password", "inline"), ("password_file", path)]),
        &[],
    )
    .unwrap();
    assert_eq!(s.password.expose(), "inline", "an inline password wins");
    std::fs::remove_dir_all(&dir).unwrap();

    std::env::set_var("PHP_SMTP_TEST_PW", "from-env");
    let s = Settings::resolve(&ini(&[("password_env", "PHP_SMTP_TEST_PW")]), &[]).unwrap();
    assert_eq!(s.password.expose(), "from-env");
    let e =
        Settings::resolve(&ini(&[("password_env", "PHP_SMTP_NOT_SET_ANYWHERE")]), &[]).unwrap_err();
    assert!(e.to_string().contains("PHP_SMTP_NOT_SET_ANYWHERE"), "{e}");
    let e = Settings::resolve(&ini(&[("password_file", "/nonexistent/pw")]), &[]).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/pw"), "{e}");
}

#[test]
fn fractional_timeout() {
    let s = Settings::resolve(&ini(&[("timeout", "0.5")]), &[]).unwrap();
    assert_eq!(s.timeout, Duration::from_millis(500));
}

#[test]
fn loopback_detection() {
    for (host, want) in [
        ("localhost", true),
        ("127.0.0.1", true),
        ("127.1.2.3", true),
        ("[::1]", true),
        ("::1", true),
        ("mail.example.org", false),
        ("10.0.0.1", false),
    ] {
        let s = Settings::resolve(&ini(&[("host", host)]), &[]).unwrap();
        assert_eq!(s.host_is_loopback(), want, "{host}");
    }
}

/// php.ini values plus what a script changed with ini_set().
struct Changed<'a> {
    admin: &'a [(&'a str, &'a str)],
    runtime: &'a [(&'a str, &'a str)],
}

impl Ini for Changed<'_> {
    fn get(&self, name: &str) -> Option<String> {
        ini(self.runtime)(name).or_else(|| ini(self.admin)(name))
    }
    fn admin(&self, name: &str) -> Option<String> {
        ini(self.admin)(name)
    }
}

#[test]
fn max_time_defaults_to_30_and_0_means_no_cap() {
    let s = Settings::resolve(&ini(&[]), &[]).unwrap();
    assert_eq!(s.max_time, Some(Duration::from_secs(30)));
    let s = Settings::resolve(&ini(&[("max_time", "0")]), &[]).unwrap();
    assert_eq!(s.max_time, None);
    let s = Settings::resolve(&ini(&[]), &opts(&[("max_time", Value::Float(2.5))])).unwrap();
    assert_eq!(s.max_time, Some(Duration::from_millis(2500)));
    assert!(Settings::resolve(&ini(&[("max_time", "-1")]), &[]).is_err());
}

#[test]
fn files_secrets_and_trust_cannot_be_set_per_call() {
    for key in [
        "password_file",
        "password_env",
        "cafile",
        "verify_peer",
        "CAFILE",
    ] {
        let e = Settings::resolve(&ini(&[]), &opts(&[(key, Value::Str("/etc/passwd".into()))]))
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!(
                "option \"{key}\" can only be set by the administrator"
            )),
            "{key}: {msg}"
        );
    }
    // Pool settings are neither per-call options nor secret.
    let e = Settings::resolve(&ini(&[]), &opts(&[("pool", Value::Bool(false))])).unwrap_err();
    assert!(e.to_string().contains("unknown option \"pool\""), "{e}");
}

#[test]
fn the_administrators_password_goes_only_to_the_administrators_host() {
    let admin = [
        ("host", "ssl://smtp.example.org"),
        ("auth", "1"),
        ("username", "wiki"),
        ("password", "admins-secret"),
    ];
    // Same host, given per call (as $wgSMTP does): fine.
    let same = opts(&[("host", Value::Str("ssl://SMTP.example.org".into()))]);
    let s = Settings::resolve(&ini(&admin), &same).unwrap();
    assert_eq!(s.password.expose(), "admins-secret");

    // Another host per call: refused, and the message names both hosts but no secret.
    let other = opts(&[("host", Value::Str("evil.example.net".into()))]);
    let e = Settings::resolve(&ini(&admin), &other).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("\"ssl://smtp.example.org:465\""), "{msg}");
    assert!(msg.contains("\"evil.example.net:25\""), "{msg}");
    assert!(!msg.contains("admins-secret"), "{msg}");

    // Another host by ini_set(): refused too.
    let changed = Changed {
        admin: &admin,
        runtime: &[("host", "evil.example.net")],
    };
    assert!(Settings::resolve(&changed, &[]).is_err());

    // The script's own password may go anywhere.
    let mut own = other.clone();
    own.push(("password".into(), Value::Str("mine".into())));
    assert_eq!(
        Settings::resolve(&ini(&admin), &own)
            .unwrap()
            .password
            .expose(),
        "mine"
    );
    let changed = Changed {
        admin: &admin,
        runtime: &[("host", "evil.example.net"), ("password", "mine")],
    };
    assert_eq!(
        Settings::resolve(&changed, &[]).unwrap().password.expose(),
        "mine"
    );

    // Without auth no password is sent at all.
    let no_auth = opts(&[
        ("host", Value::Str("evil.example.net".into())),
        ("auth", Value::Bool(false)),
    ]);
    assert!(Settings::resolve(&ini(&admin), &no_auth).is_ok());
}

#[test]
fn a_password_file_is_the_administrators_secret_too() {
    let dir = std::env::temp_dir().join(format!("php-smtp-pin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pw");
    std::fs::write(&file, "from-file\n").unwrap();
    let path = file.to_str().unwrap();
    let admin = [
        ("host", "mail.example.org"),
        ("auth", "PLAIN"),
        ("username", "wiki"),
        ("password_file", path),
    ];
    let other = opts(&[("host", Value::Str("127.0.0.1".into()))]);
    assert!(Settings::resolve(&ini(&admin), &other).is_err());
    assert_eq!(
        Settings::resolve(&ini(&admin), &[])
            .unwrap()
            .password
            .expose(),
        "from-file"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_command_line_doctor_may_name_files_and_trust() {
    let options = opts(&[
        ("cafile", Value::Str("/etc/ssl/private-ca.pem".into())),
        ("verify_peer", Value::Bool(true)),
    ]);
    assert!(Settings::resolve(&ini(&[]), &options).is_err());
    let s = Settings::resolve_for(&ini(&[]), &options, Caller::Admin).unwrap();
    assert_eq!(
        s.cafile.as_deref(),
        Some(std::path::Path::new("/etc/ssl/private-ca.pem"))
    );
}

/// Every part of the administrator's endpoint, changed by a script per call and by ini_set():
/// refused while the administrator's password would be used, allowed with the script's own.
#[test]
fn the_administrators_password_is_bound_to_the_whole_endpoint() {
    let admin = [
        ("host", "smtp.example.org, backup.example.org:587"),
        ("port", "587"),
        ("starttls", "auto"),
        ("auth", "PLAIN"),
        ("username", "wiki"),
        ("password", "admins-secret"),
    ];
    let refused = [
        ("port", "2525", "the server \"smtp.example.org:2525\""),
        (
            "host",
            "ssl://smtp.example.org:587",
            "the server \"ssl://smtp.example.org:587\"",
        ),
        (
            "host",
            "tls://smtp.example.org",
            "the server \"ssl://smtp.example.org:587\"",
        ),
        (
            "host",
            "smtp.example.org:25",
            "the server \"smtp.example.org:25\"",
        ),
        ("host", "127.0.0.1", "the server \"127.0.0.1:587\""),
        (
            "starttls",
            "off",
            "smtp.starttls to \"off\" (the administrator's: \"auto\")",
        ),
        (
            "auth",
            "LOGIN",
            "smtp.auth to \"LOGIN\" (the administrator's: \"PLAIN\")",
        ),
        ("auth", "1", "smtp.auth to \"1\""),
        (
            "username",
            "ceo",
            "smtp.username to \"ceo\" (the administrator's: \"wiki\")",
        ),
    ];
    for (name, value, what) in refused {
        let per_call = opts(&[(name, Value::Str(value.into()))]);
        let runtime = [(name, value)];
        let by_ini_set = Changed {
            admin: &admin,
            runtime: &runtime,
        };
        for (how, result) in [
            ("per call", Settings::resolve(&ini(&admin), &per_call)),
            ("ini_set", Settings::resolve(&by_ini_set, &[])),
        ] {
            let msg = result
                .expect_err(&format!("{name}={value} {how}"))
                .to_string();
            assert!(msg.contains(what), "{name}={value} {how}: {msg}");
            assert!(
                msg.contains("the SMTP password comes from the administrator"),
                "{msg}"
            );
            assert!(!msg.contains("admins-secret"), "{msg}");
        }
        let mut own = per_call.clone();
        own.push(("password".into(), Value::Str("mine".into())));
        let s = Settings::resolve(&ini(&admin), &own).unwrap();
        assert_eq!(
            s.password.expose(),
            "mine",
            "{name}={value} with its own password"
        );
    }
    // No change that could leak the secret: the same values written differently, one of the
    // administrator's servers, a stricter STARTTLS policy, or no auth at all.
    for (name, value) in [
        ("host", "SMTP.example.org"),
        ("host", "backup.example.org"),
        ("port", "587"),
        ("starttls", "required"),
        ("auth", "plain"),
        ("auth", "0"),
    ] {
        let s = Settings::resolve(&ini(&admin), &opts(&[(name, Value::Str(value.into()))]));
        assert!(s.is_ok(), "{name}={value}: {:?}", s.err());
    }
}

/// With OAuth from php.ini the token acts for the administrator's mailbox only: a script's
/// username (per call or ini_set) or server is refused even with a password of its own.
#[test]
fn an_administrators_token_acts_for_the_administrators_mailbox_only() {
    let admin = [
        ("host", "smtp.office365.com"),
        ("port", "587"),
        ("auth", "XOAUTH2"),
        ("username", "wiki@example.org"),
        ("oauth_provider", "microsoft"),
        ("oauth_tenant", "example.onmicrosoft.com"),
        ("oauth_client_id", "id"),
        ("oauth_client_secret", "client-secret"),
    ];
    assert!(Settings::resolve(&ini(&admin), &[]).is_ok());
    let ceo = [("username", "ceo@example.org")];
    for result in [
        Settings::resolve(
            &ini(&admin),
            &opts(&[("username", Value::Str("ceo@example.org".into()))]),
        ),
        Settings::resolve(
            &Changed {
                admin: &admin,
                runtime: &ceo,
            },
            &[],
        ),
        Settings::resolve(
            &ini(&admin),
            &opts(&[
                ("username", Value::Str("ceo@example.org".into())),
                ("password", Value::Str("mine".into())),
            ]),
        ),
        Settings::resolve(&ini(&admin), &opts(&[("port", Value::Int(2525))])),
    ] {
        let msg = result.unwrap_err().to_string();
        assert!(
            msg.contains("the OAuth token comes from the administrator"),
            "{msg}"
        );
        assert!(!msg.contains("client-secret"), "{msg}");
    }
}

#[test]
fn max_connections_is_the_administrators() {
    let e = Settings::resolve(&ini(&[]), &opts(&[("max_connections", Value::Int(0))])).unwrap_err();
    assert!(
        e.to_string()
            .contains("option \"max_connections\" can only be set by the administrator"),
        "{e}"
    );
    assert_eq!(find("max_connections").unwrap().scope, Scope::System);
}

#[test]
fn delegated_providers_need_a_client_id_and_the_refresh_token_file() {
    let base = [
        ("auth", "XOAUTH2"),
        ("username", "me@outlook.example"),
        ("oauth_provider", "microsoft-delegated"),
        ("oauth_client_id", "public-client"),
    ];
    let msg = Settings::resolve(&ini(&base), &[]).unwrap_err().to_string();
    assert!(msg.contains("smtp.oauth_refresh_token_file"), "{msg}");
    let with_file = [
        &base[..],
        &[("oauth_refresh_token_file", "/var/lib/php-smtp/token")],
    ]
    .concat();
    let s = Settings::resolve(&ini(&with_file), &[]).unwrap();
    let o = s.oauth.unwrap();
    assert_eq!(o.provider, Provider::MicrosoftDelegated);
    assert_eq!(
        o.refresh_token_file.as_deref(),
        Some(std::path::Path::new("/var/lib/php-smtp/token"))
    );
    // Google's installed-app clients have a secret, and the exchange needs it.
    let google = [
        ("auth", "XOAUTH2"),
        ("username", "me@gmail.example"),
        ("oauth_provider", "google-user"),
        ("oauth_client_id", "x.apps.googleusercontent.com"),
        ("oauth_refresh_token_file", "/var/lib/php-smtp/token"),
    ];
    let msg = Settings::resolve(&ini(&google), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("client secret"), "{msg}");
    assert_eq!(
        find("oauth_refresh_token_file").unwrap().scope,
        Scope::System
    );
    let e = Settings::resolve(
        &ini(&with_file),
        &opts(&[("oauth_refresh_token_file", Value::Str("/tmp/other".into()))]),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("can only be set by the administrator"),
        "{e}"
    );
}

#[test]
fn max_rate_is_a_count_per_second_minute_or_hour() {
    let rate = |v: &str| Settings::resolve(&ini(&[("max_rate", v)]), &[]).map(|s| s.max_rate);
    let r = |count, secs| {
        Some(Rate {
            count,
            per: Duration::from_secs(secs),
        })
    };
    for (text, want) in [
        ("30/min", r(30, 60)),
        (" 14 / s ", r(14, 1)),
        ("1000/h", r(1000, 3600)),
        ("5/second", r(5, 1)),
        ("2/Minute", r(2, 60)),
        ("7/hour", r(7, 3600)),
        ("0", None),
        ("", None),
        ("0/min", None),
    ] {
        assert_eq!(rate(text).unwrap(), want, "{text:?}");
    }
    assert_eq!(r(30, 60).unwrap().to_string(), "30/min");
    assert_eq!(r(14, 1).unwrap().to_string(), "14/s");
    for bad in [
        "30",
        "30/day",
        "-1/s",
        "1.5/s",
        "x/min",
        "/min",
        "2000000/s",
        "30/min/s",
    ] {
        let e = rate(bad).unwrap_err().to_string();
        assert!(
            e.contains(&format!("max_rate \"{}\" is not valid", bad.trim())) && e.contains("N/min"),
            "{bad}: {e}"
        );
    }
    // The default: no limit.
    assert_eq!(Settings::resolve(&ini(&[]), &[]).unwrap().max_rate, None);
}

#[test]
fn max_rate_is_the_administrators() {
    let e = Settings::resolve(
        &ini(&[("max_rate", "30/min")]),
        &opts(&[("max_rate", Value::Str("0".into()))]),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("option \"max_rate\" can only be set by the administrator"),
        "{e}"
    );
    assert_eq!(find("max_rate").unwrap().scope, Scope::System);
}
