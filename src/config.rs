//! Settings: the `smtp.*` ini values, overlaid by a `$wgSMTP`-shaped options array, turned into
//! one validated `Settings` value. Knows nothing of PHP: the glue hands in strings and values.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::authentication::Mechanism;

use crate::error::{Error, Result};

/// The ini settings of the extension (without the `smtp.` prefix), with their defaults.
/// `port` empty means "25, or 465 with an ssl:// or tls:// host"; `idhost` and `localhost` empty
/// mean this machine's host name.
pub const INI_DEFAULTS: &[(&str, &str)] = &[
    ("host", "localhost"),
    ("port", ""),
    ("auth", "0"),
    ("username", ""),
    ("password", ""),
    ("idhost", ""),
    ("localhost", ""),
    ("timeout", "10"),
    ("cafile", ""),
    ("starttls", "auto"),
    ("verify_peer", "1"),
    ("password_file", ""),
    ("password_env", ""),
    ("debug", "0"),
    ("override_mail", "0"),
    ("pool", "1"),
    ("pool_ping_after", "5"),
    ("pool_idle_timeout", "30"),
    ("pool_max_messages", "100"),
];

/// The keys a per-call options array may have: `$wgSMTP`'s keys plus the TLS, secret and
/// debug settings.
/// Matched without regard to case, so `IDHost` (MediaWiki's spelling) and `idhost` both work.
const OPTION_KEYS: &[&str] = &[
    "host",
    "port",
    "auth",
    "username",
    "password",
    "idhost",
    "localhost",
    "timeout",
    "cafile",
    "starttls",
    "verify_peer",
    "password_file",
    "password_env",
    "debug",
];

/// A value from a PHP options array, already out of its zval.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// A password: never shown by `Debug` or `Display`, so it cannot leak into logs or messages.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "********"
        })
    }
}

/// When to upgrade a plain connection with STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartTls {
    /// Upgrade when the server offers it; required anyway before a password goes to a
    /// non-loopback server.
    Auto,
    /// Fail when the server does not offer it.
    Required,
    /// Never upgrade (a password then only goes to a loopback server).
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMode {
    Off,
    /// The best mechanism the server offers.
    Auto,
    Only(Mechanism),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Host name or address, without any ssl:// or tls:// prefix.
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (ssl:// or tls:// prefix); otherwise STARTTLS when offered.
    pub implicit_tls: bool,
    pub auth: AuthMode,
    pub username: String,
    pub password: Secret,
    /// Domain of generated Message-IDs.
    pub idhost: String,
    /// Name sent in EHLO.
    pub localhost: String,
    /// One deadline for a whole send: DNS, connect, TLS, every reply.
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM), for servers with a private CA.
    pub cafile: Option<PathBuf>,
    pub starttls: StartTls,
    /// Off only as an explicit escape hatch: any certificate is accepted (and each such
    /// connection is logged).
    pub verify_peer: bool,
    /// Write the SMTP conversation to the log (AUTH data hidden).
    pub debug: bool,
    pub pool: PoolSettings,
}

/// How the per-worker connection is kept between sends (ini only, not per call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Keep the connection open after a send; off = connect, send, QUIT every time.
    pub enabled: bool,
    /// A connection idle longer than this is checked with NOOP before reuse.
    pub ping_after: Duration,
    /// A connection idle longer than this is closed instead of reused.
    pub idle_timeout: Duration,
    /// A connection that carried this many messages is replaced by a new one.
    pub max_messages: u32,
}

impl Settings {
    /// Builds the settings from ini values (`ini("host")` is `smtp.host`; `None` = default) and
    /// the per-call options, which win over the ini values.
    pub fn resolve(
        ini: &dyn Fn(&str) -> Option<String>,
        options: &[(String, Value)],
    ) -> Result<Settings> {
        let mut raw: Vec<(&'static str, Value)> = INI_DEFAULTS
            .iter()
            .map(|&(name, default)| {
                (
                    name,
                    Value::Str(ini(name).unwrap_or_else(|| default.into())),
                )
            })
            .collect();
        for (key, value) in options {
            let lower = key.to_ascii_lowercase();
            let Some(name) = OPTION_KEYS.iter().find(|k| **k == lower) else {
                return Err(Error::Config(format!(
                    "unknown option \"{key}\"; known options are {}",
                    OPTION_KEYS.join(", ")
                )));
            };
            // A null in the array leaves the ini value in force, as an absent key would.
            if *value != Value::Null {
                if let Some(slot) = raw.iter_mut().find(|(n, _)| n == name) {
                    slot.1 = value.clone();
                }
            }
        }
        let get = |name: &str| -> &Value {
            &raw.iter()
                .find(|(n, _)| *n == name)
                .expect("every option key has an ini default")
                .1
        };

        let (host, implicit_tls) = parse_host(&as_string("host", get("host"))?)?;
        let port = match get("port") {
            Value::Str(s) if s.trim().is_empty() => {
                if implicit_tls {
                    465
                } else {
                    25
                }
            }
            v => parse_port(v)?,
        };
        let username = as_string("username", get("username"))?;
        let auth = parse_auth(get("auth"))?;
        if auth != AuthMode::Off && username.is_empty() {
            return Err(Error::Config(
                "smtp.auth is on but smtp.username is empty; set the account name (and \
                 smtp.password), or turn smtp.auth off"
                    .into(),
            ));
        }
        let non_empty_or_hostname = |name: &str| -> Result<String> {
            let s = as_string(name, get(name))?;
            Ok(if s.trim().is_empty() {
                system_hostname()
            } else {
                s.trim().to_string()
            })
        };
        let idhost = non_empty_or_hostname("idhost")?;
        let localhost = non_empty_or_hostname("localhost")?;
        for (name, v) in [("idhost", &idhost), ("localhost", &localhost)] {
            if v.bytes()
                .any(|b| !b.is_ascii_graphic() || b"<>@\"\\".contains(&b))
            {
                return Err(Error::Config(format!(
                    "{name} \"{v}\" is not a valid host name"
                )));
            }
        }
        let cafile = as_string("cafile", get("cafile"))?;

        Ok(Settings {
            host,
            port,
            implicit_tls,
            auth,
            username,
            password: resolve_password(
                &as_string("password", get("password"))?,
                as_string("password_file", get("password_file"))?.trim(),
                as_string("password_env", get("password_env"))?.trim(),
            )?,
            idhost,
            localhost,
            timeout: parse_timeout(get("timeout"))?,
            cafile: (!cafile.trim().is_empty()).then(|| PathBuf::from(cafile.trim())),
            starttls: match as_string("starttls", get("starttls"))?
                .trim()
                .to_ascii_lowercase()
                .as_str()
            {
                "auto" => StartTls::Auto,
                "required" | "require" | "1" | "on" => StartTls::Required,
                // PHP's ini parser turns an unquoted off/no/false/none into "".
                "" | "off" | "0" | "no" | "never" => StartTls::Off,
                other => {
                    return Err(Error::Config(format!(
                        "starttls \"{other}\" is not valid: use auto, required or off"
                    )))
                }
            },
            verify_peer: parse_bool("verify_peer", get("verify_peer"))?,
            debug: parse_bool("debug", get("debug"))?,
            pool: PoolSettings {
                enabled: parse_bool("pool", get("pool"))?,
                ping_after: parse_seconds("pool_ping_after", get("pool_ping_after"), 0.0)?,
                idle_timeout: parse_seconds("pool_idle_timeout", get("pool_idle_timeout"), 0.0)?,
                max_messages: match parse_seconds(
                    "pool_max_messages",
                    get("pool_max_messages"),
                    1.0,
                )? {
                    d if d.subsec_nanos() == 0 => d.as_secs().min(u64::from(u32::MAX)) as u32,
                    _ => {
                        return Err(Error::Config(
                            "pool_max_messages must be a whole number".into(),
                        ))
                    }
                },
            },
        })
    }

    /// True for 127.0.0.0/8, ::1 and "localhost": the only servers we may talk to in clear text
    /// with a password, since nothing leaves the machine.
    pub fn host_is_loopback(&self) -> bool {
        if self.host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
    }

    /// The host as shown in messages, with its port.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The password: `password` itself, else the contents of `password_file` (read once per
/// process and path, a trailing newline dropped), else the environment variable named by
/// `password_env`. Errors name the file or variable, never a value.
fn resolve_password(password: &str, file: &str, env: &str) -> Result<Secret> {
    use once_cell::sync::Lazy;
    use parking_lot::Mutex;
    use std::collections::HashMap;
    static FILES: Lazy<Mutex<HashMap<String, Secret>>> = Lazy::new(|| Mutex::new(HashMap::new()));

    if !password.is_empty() {
        return Ok(Secret::new(password));
    }
    if !file.is_empty() {
        if let Some(s) = FILES.lock().get(file) {
            return Ok(s.clone());
        }
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::Config(format!(
                "password_file \"{file}\" cannot be read ({}); it must be readable by the \
                 PHP worker's user",
                e.kind()
            ))
        })?;
        let secret = Secret::new(text.trim_end_matches(['\r', '\n']));
        FILES.lock().insert(file.to_string(), secret.clone());
        return Ok(secret);
    }
    if !env.is_empty() {
        return std::env::var(env).map(Secret::new).map_err(|_| {
            Error::Config(format!(
                "password_env names the environment variable \"{env}\", which is not set \
                 for this PHP process (for PHP-FPM: env[{env}] in the pool, with \
                 clear_env)"
            ))
        });
    }
    Ok(Secret::default())
}

fn as_string(name: &str, v: &Value) -> Result<String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        Value::Null => Ok(String::new()),
        Value::Bool(_) => Err(Error::Config(format!(
            "{name} must be a string, not a boolean"
        ))),
    }
}

fn parse_host(s: &str) -> Result<(String, bool)> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let (host, implicit) = if lower.starts_with("ssl://") || lower.starts_with("tls://") {
        (&s[6..], true)
    } else if let Some(pos) = lower.find("://") {
        return Err(Error::Config(format!(
            "host \"{s}\" has an unknown prefix \"{}://\"; use ssl:// or tls:// for implicit TLS, \
             or a plain host name for STARTTLS",
            &s[..pos]
        )));
    } else {
        (s, false)
    };
    if host.is_empty() {
        return Err(Error::Config(
            "host is empty; set smtp.host to your SMTP server".into(),
        ));
    }
    if host
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'/')
    {
        return Err(Error::Config(format!(
            "host \"{host}\" is not a valid host name"
        )));
    }
    Ok((host.to_string(), implicit))
}

fn parse_port(v: &Value) -> Result<u16> {
    let n = match v {
        Value::Int(i) => *i,
        Value::Str(s) => s.trim().parse::<i64>().map_err(|_| {
            Error::Config(format!(
                "port \"{s}\" is not a number (usually 587, 465 or 25)"
            ))
        })?,
        Value::Float(f) if f.fract() == 0.0 => *f as i64,
        other => return Err(Error::Config(format!("port {other:?} is not a number"))),
    };
    u16::try_from(n)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::Config(format!("port {n} is out of range (1-65535)")))
}

fn parse_auth(v: &Value) -> Result<AuthMode> {
    let text = match v {
        Value::Bool(b) => return Ok(if *b { AuthMode::Auto } else { AuthMode::Off }),
        Value::Int(0) => return Ok(AuthMode::Off),
        Value::Int(1) => return Ok(AuthMode::Auto),
        Value::Null => return Ok(AuthMode::Off),
        Value::Str(s) => s.trim().to_ascii_uppercase(),
        other => return Err(Error::Config(format!("auth {other:?} is not valid"))),
    };
    Ok(match text.as_str() {
        "" | "0" | "OFF" | "FALSE" | "NO" | "NONE" => AuthMode::Off,
        "1" | "ON" | "TRUE" | "YES" => AuthMode::Auto,
        "PLAIN" => AuthMode::Only(Mechanism::Plain),
        "LOGIN" => AuthMode::Only(Mechanism::Login),
        "XOAUTH2" => AuthMode::Only(Mechanism::Xoauth2),
        _ => {
            return Err(Error::Config(format!(
                "auth \"{text}\" is not valid: use 0, 1, PLAIN, LOGIN or XOAUTH2"
            )))
        }
    })
}

fn parse_timeout(v: &Value) -> Result<Duration> {
    let d = parse_seconds("timeout", v, 0.001)?;
    if d > Duration::from_secs(3600) {
        return Err(Error::Config(format!(
            "timeout {} is out of range: give seconds, more than 0 and at most 3600",
            d.as_secs_f64()
        )));
    }
    Ok(d)
}

/// A non-negative number (seconds, or a count) at least `min`.
fn parse_seconds(name: &str, v: &Value, min: f64) -> Result<Duration> {
    let n = match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Str(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| Error::Config(format!("{name} \"{s}\" is not a number")))?,
        other => return Err(Error::Config(format!("{name} {other:?} is not a number"))),
    };
    if !(n >= min && n < 1e9) {
        return Err(Error::Config(format!("{name} {n} is out of range")));
    }
    Ok(Duration::from_secs_f64(n))
}

fn parse_bool(name: &str, v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Int(i) => Ok(*i != 0),
        Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "off" | "false" | "no" => Ok(false),
            "1" | "on" | "true" | "yes" => Ok(true),
            _ => Err(Error::Config(format!("{name} \"{s}\" is not on/off"))),
        },
        other => Err(Error::Config(format!("{name} {other:?} is not on/off"))),
    }
}

/// This machine's host name, the default for the EHLO name and the Message-ID domain.
pub fn system_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    if name.is_empty() || name.bytes().any(|b| !b.is_ascii_graphic()) {
        "localhost".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
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
        let e =
            Settings::resolve(&ini(&[]), &opts(&[("hots", Value::Str("x".into()))])).unwrap_err();
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
        let e = Settings::resolve(&ini(&[("password_env", "PHP_SMTP_NOT_SET_ANYWHERE")]), &[])
            .unwrap_err();
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
}
