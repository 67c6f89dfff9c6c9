//! Settings: the `smtp.*` ini values, overlaid by a `$wgSMTP`-shaped options array, turned into
//! one validated `Settings` value. Knows nothing of PHP: the glue hands in strings and values.
//!
//! Who may set what: the connection settings of `$wgSMTP` may come with each call; secrets from
//! files or the environment and the TLS trust policy only from the administrator (php.ini,
//! `php_admin_value`), so a script cannot point the extension at files or policies the admin did
//! not choose; and a password or token the administrator set is only ever used with the
//! server, port, TLS mode, STARTTLS policy, auth mode and account the administrator set
//! (`trust`). Limits on this machine's resources (`max_connections`, `max_rate`) are the
//! administrator's.

mod delivery;
mod trust;
mod values;

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::authentication::Mechanism;

pub use crate::secret::Secret;
pub use values::Rate;
use values::*;

use crate::error::{Error, Result};
use crate::oauth::{OAuthSettings, Provider};
use crate::secret::{self, SecretError};

/// Who may change a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// php.ini, `ini_set()`, and the per-call options array (the keys of `$wgSMTP`).
    Call,
    /// php.ini and `ini_set()`.
    Request,
    /// Only php.ini or `php_admin_value` (PHP_INI_SYSTEM): files, secrets, trust.
    System,
}

pub struct IniSetting {
    /// Without the `smtp.` prefix.
    pub name: &'static str,
    pub default: &'static str,
    pub scope: Scope,
}

const fn setting(name: &'static str, default: &'static str, scope: Scope) -> IniSetting {
    IniSetting {
        name,
        default,
        scope,
    }
}

/// Every `smtp.*` setting with its default. `port` empty means "25, or 465 with an ssl:// or
/// tls:// host"; `idhost` and `localhost` empty mean this machine's host name.
pub const SETTINGS: &[IniSetting] = &[
    setting("host", "localhost", Scope::Call),
    setting("port", "", Scope::Call),
    setting("auth", "0", Scope::Call),
    setting("username", "", Scope::Call),
    setting("password", "", Scope::Call),
    setting("idhost", "", Scope::Call),
    setting("localhost", "", Scope::Call),
    setting("timeout", "10", Scope::Call),
    setting("max_time", "30", Scope::Call),
    setting("starttls", "auto", Scope::Call),
    setting("debug", "0", Scope::Call),
    setting("dsn_notify", "", Scope::Call),
    setting("dsn_ret", "", Scope::Call),
    setting("require_tls", "0", Scope::Call),
    setting("cafile", "", Scope::System),
    setting("verify_peer", "1", Scope::System),
    setting("password_file", "", Scope::System),
    setting("password_env", "", Scope::System),
    setting("oauth_provider", "", Scope::System),
    setting("oauth_tenant", "", Scope::System),
    setting("oauth_token_url", "", Scope::System),
    setting("oauth_client_id", "", Scope::System),
    setting("oauth_client_secret", "", Scope::System),
    setting("oauth_client_secret_file", "", Scope::System),
    setting("oauth_client_secret_env", "", Scope::System),
    setting("oauth_scope", "", Scope::System),
    setting("oauth_key_file", "", Scope::System),
    setting("oauth_refresh_token_file", "", Scope::System),
    setting("max_connections", "0", Scope::System),
    setting("max_rate", "0", Scope::System),
    setting("pool_size", "8", Scope::System),
    setting("slot_dir", "", Scope::System),
    setting("chunking", "auto", Scope::Request),
    setting("override_mail", "0", Scope::Request),
    setting("pool", "1", Scope::Request),
    setting("pool_ping_after", "5", Scope::Request),
    setting("pool_idle_timeout", "30", Scope::Request),
    setting("pool_max_messages", "0", Scope::Request),
];

pub fn find(name: &str) -> Option<&'static IniSetting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Where ini values come from: the PHP glue reads `EG(ini_directives)`; tests give a list.
/// Names are without the `smtp.` prefix.
pub trait Ini {
    /// The value in force for this request; `None` means the default.
    fn get(&self, name: &str) -> Option<String>;
    /// The value the administrator set (php.ini, `php_admin_value`), before any `ini_set()`.
    fn admin(&self, name: &str) -> Option<String> {
        self.get(name)
    }
}

impl<F: Fn(&str) -> Option<String>> Ini for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// A value from a PHP options array, already out of its zval.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
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

/// One server of `smtp.host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub implicit_tls: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Host name or address, without any ssl:// or tls:// prefix: the server tried first (or
    /// the one `on()` chose).
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (ssl:// or tls:// prefix); otherwise STARTTLS when offered.
    pub implicit_tls: bool,
    /// Every server of `smtp.host`, in the order to try them; the first is `host`/`port`.
    pub servers: Vec<Server>,
    pub auth: AuthMode,
    pub username: String,
    pub password: Secret,
    /// Domain of generated Message-IDs.
    pub idhost: String,
    /// Name sent in EHLO.
    pub localhost: String,
    /// The longest wait for any one step: DNS, connect, TLS handshake, each reply.
    pub timeout: Duration,
    /// The whole call, retries included; `None` = no cap.
    pub max_time: Option<Duration>,
    /// Extra trusted CA certificates (PEM), for servers with a private CA.
    pub cafile: Option<PathBuf>,
    pub starttls: StartTls,
    /// Off only as an explicit escape hatch: any certificate is accepted (and each such
    /// connection is logged).
    pub verify_peer: bool,
    /// Write the SMTP conversation to the log (AUTH data hidden).
    pub debug: bool,
    /// BDAT (RFC 3030) when the server offers CHUNKING.
    pub chunking: bool,
    /// At most this many connections per server and account from this machine (0 = no cap).
    pub max_connections: u32,
    /// `smtp.slot_dir`: where the `max_connections` slot files go (`None`: a per-user directory
    /// under the temporary directory).
    pub slot_dir: Option<PathBuf>,
    /// `smtp.max_rate`: at most this many messages per server and account from this machine
    /// (`None`: no limit); its shared schedule lives in `slot_dir`'s directory.
    pub max_rate: Option<Rate>,
    /// Where XOAUTH2 gets its tokens (`smtp.oauth_*`); `None`: the token is `password`.
    pub oauth: Option<OAuthSettings>,
    pub pool: PoolSettings,
    /// DSN (RFC 3461) for the messages of this call; nothing asked by default.
    pub dsn: crate::message::Dsn,
    /// REQUIRETLS (RFC 8689): the messages go only over verified TLS to a server that offers it.
    pub require_tls: bool,
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
    /// A connection that carried this many messages is replaced by a new one; 0 = no limit of
    /// our own (a server's own session limit is learnt by the pool when it ends a session).
    pub max_messages: u32,
    /// At most this many kept connections per process (the least recently used goes first).
    pub size: usize,
}

/// Who passes the per-call options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A PHP script in a web request: it may not choose files, secrets or trust.
    Script,
    /// Whoever runs PHP on the command line (the doctor): they can read the files and the
    /// environment anyway, so they may name them.
    Admin,
}

impl Settings {
    /// Builds the settings from the ini values and the per-call options of a script, which win
    /// over the ini values.
    pub fn resolve(ini: &dyn Ini, options: &[(String, Value)]) -> Result<Settings> {
        Settings::resolve_for(ini, options, Caller::Script)
    }

    /// As `resolve`, for the given caller.
    pub fn resolve_for(
        ini: &dyn Ini,
        options: &[(String, Value)],
        caller: Caller,
    ) -> Result<Settings> {
        let mut raw: Vec<(&'static str, Value)> = SETTINGS
            .iter()
            .map(|s| {
                (
                    s.name,
                    Value::Str(ini.get(s.name).unwrap_or_else(|| s.default.into())),
                )
            })
            .collect();
        let (options, call_dsn) = delivery::split(options)?;
        let options = options.as_slice();
        let mut own_password = false;
        let mut own_token = false;
        for (key, value) in options {
            let lower = key.to_ascii_lowercase();
            let known = SETTINGS
                .iter()
                .find(|s| s.name == lower && s.scope != Scope::Request);
            let Some(known) = known else {
                return Err(Error::Config(format!(
                    "unknown option \"{key}\"; known options are {}, dsn (an array)",
                    option_keys().join(", ")
                )));
            };
            if known.scope == Scope::System && caller == Caller::Script {
                return Err(Error::Config(format!(
                    "option \"{key}\" can only be set by the administrator (smtp.{} in php.ini, \
                     or php_admin_value in the PHP-FPM pool), not per call",
                    known.name
                )));
            }
            // A null in the array leaves the ini value in force, as an absent key would.
            if *value != Value::Null {
                let secret = matches!(known.name, "password" | "password_file" | "password_env");
                if secret && *value != Value::Str(String::new()) {
                    own_password = true;
                }
                // Only the command-line administrator may name OAuth settings per call: then
                // the token is theirs for this call, not php.ini's.
                if known.name.starts_with("oauth_") {
                    own_token = true;
                }
                if let Some(slot) = raw.iter_mut().find(|(n, _)| *n == known.name) {
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
        let text = |name: &str| as_string(name, get(name));

        let servers = trust::servers(&text("host")?, get("port"))?;
        let Server {
            host,
            port,
            implicit_tls,
        } = servers[0].clone();
        let username = text("username")?;
        let auth = parse_auth(get("auth"))?;
        if auth != AuthMode::Off && username.is_empty() {
            return Err(Error::Config(
                "smtp.auth is on but smtp.username is empty; set the account name (and \
                 smtp.password), or turn smtp.auth off"
                    .into(),
            ));
        }
        let non_empty_or_hostname = |name: &str| -> Result<String> {
            let s = text(name)?;
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

        let cafile = text("cafile")?;
        let cafile = (!cafile.trim().is_empty()).then(|| PathBuf::from(cafile.trim()));
        let oauth = oauth(&text, &username, cafile.clone())?;
        let (password, admins_secret) = password(&raw, ini, own_password)?;
        let uses_token = oauth.is_some()
            && !own_token
            && auth != AuthMode::Only(Mechanism::Plain)
            && auth != AuthMode::Only(Mechanism::Login);
        let starttls = parse_starttls(&text("starttls")?)?;
        let admin_secret = if auth == AuthMode::Off {
            None
        } else if uses_token {
            Some(trust::AdminSecret::Token)
        } else if admins_secret {
            Some(trust::AdminSecret::Password)
        } else {
            None
        };
        if let Some(secret) = admin_secret {
            let this = trust::Endpoint {
                servers: servers.clone(),
                starttls,
                auth,
                username: username.clone(),
            };
            trust::check(secret, &this, &trust::admins(ini)?)?;
        }
        Ok(Settings {
            host,
            port,
            implicit_tls,
            servers,
            auth,
            username,
            password,
            idhost,
            localhost,
            timeout: parse_timeout(get("timeout"))?,
            max_time: parse_max_time(get("max_time"))?,
            cafile,
            starttls,
            verify_peer: parse_bool("verify_peer", get("verify_peer"))?,
            debug: parse_bool("debug", get("debug"))?,
            chunking: parse_chunking(&text("chunking")?)?,
            dsn: delivery::dsn(&text("dsn_notify")?, &text("dsn_ret")?, call_dsn)?,
            require_tls: parse_bool("require_tls", get("require_tls"))?,
            oauth,
            max_connections: match parse_seconds("max_connections", get("max_connections"), 0.0)? {
                d if d.subsec_nanos() == 0 => d.as_secs().min(1000) as u32,
                _ => {
                    return Err(Error::Config(
                        "max_connections must be a whole number (0 = no cap)".into(),
                    ))
                }
            },
            slot_dir: Some(PathBuf::from(text("slot_dir")?.trim()))
                .filter(|p| !p.as_os_str().is_empty()),
            max_rate: parse_rate(&text("max_rate")?)?,
            pool: PoolSettings {
                size: match parse_seconds("pool_size", get("pool_size"), 1.0)? {
                    d if d.subsec_nanos() == 0 => d.as_secs().min(1000) as usize,
                    _ => return Err(Error::Config("pool_size must be a whole number".into())),
                },
                enabled: parse_bool("pool", get("pool"))?,
                ping_after: parse_seconds("pool_ping_after", get("pool_ping_after"), 0.0)?,
                idle_timeout: parse_seconds("pool_idle_timeout", get("pool_idle_timeout"), 0.0)?,
                max_messages: match parse_seconds(
                    "pool_max_messages",
                    get("pool_max_messages"),
                    0.0,
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

    /// The same settings, aimed at one of the servers.
    pub fn on(&self, server: &Server) -> Settings {
        Settings {
            host: server.host.clone(),
            port: server.port,
            implicit_tls: server.implicit_tls,
            ..self.clone()
        }
    }
}

/// The keys a per-call options array may have.
pub fn option_keys() -> Vec<&'static str> {
    SETTINGS
        .iter()
        .filter(|s| s.scope == Scope::Call)
        .map(|s| s.name)
        .collect()
}

/// The password, and whether it is the administrator's: the value given with the call or set by
/// `ini_set()` is the script's own; php.ini's value, `password_file` and `password_env` are the
/// administrator's.
fn password(raw: &[(&str, Value)], ini: &dyn Ini, own: bool) -> Result<(Secret, bool)> {
    let text = |name: &str| -> Result<String> {
        let v = raw.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        Ok(as_string(name, v.unwrap_or(&Value::Null))?
            .trim()
            .to_string())
    };
    let value = as_string(
        "password",
        raw.iter()
            .find(|(n, _)| *n == "password")
            .map_or(&Value::Null, |(_, v)| v),
    )?;
    if !value.is_empty() {
        let admins = !own && ini.admin("password").as_deref() == Some(value.as_str());
        return Ok((Secret::new(value), admins));
    }
    let file = text("password_file")?;
    if !file.is_empty() {
        return Ok((
            secret::from_file(&file, "password_file").map_err(config_error)?,
            !own,
        ));
    }
    let env = text("password_env")?;
    if !env.is_empty() {
        return Ok((
            secret::from_env(&env, "password_env").map_err(config_error)?,
            !own,
        ));
    }
    Ok((Secret::default(), false))
}

/// `smtp.oauth_*`: where XOAUTH2 tokens come from, when a provider is set. Every value is the
/// administrator's (php.ini only).
fn oauth(
    text: &dyn Fn(&str) -> Result<String>,
    username: &str,
    cafile: Option<PathBuf>,
) -> Result<Option<OAuthSettings>> {
    let get = |name: &str| -> Result<String> { Ok(text(name)?.trim().to_string()) };
    let provider = get("oauth_provider")?;
    if provider.is_empty() {
        return Ok(None);
    }
    let provider = Provider::parse(&provider).ok_or_else(|| {
        Error::Config(format!(
            "oauth_provider \"{provider}\" is not valid: use microsoft, google, generic, \
             microsoft-delegated or google-user"
        ))
    })?;
    let missing = |what: &str, why: &str| {
        Error::Config(format!(
            "smtp.oauth_provider={} needs {what} ({why})",
            provider.name()
        ))
    };
    let token_url = Some(get("oauth_token_url")?).filter(|u| !u.is_empty());
    let tenant = get("oauth_tenant")?;
    let client_id = get("oauth_client_id")?;
    let scope = Some(get("oauth_scope")?).filter(|s| !s.is_empty());
    let key_file = Some(get("oauth_key_file")?)
        .filter(|k| !k.is_empty())
        .map(PathBuf::from);
    let refresh_token_file = Some(get("oauth_refresh_token_file")?)
        .filter(|k| !k.is_empty())
        .map(PathBuf::from);
    let client_secret = {
        let value = text("oauth_client_secret")?;
        let file = get("oauth_client_secret_file")?;
        let env = get("oauth_client_secret_env")?;
        if !value.is_empty() {
            Secret::new(value)
        } else if !file.is_empty() {
            secret::from_file(&file, "oauth_client_secret_file").map_err(config_error)?
        } else if !env.is_empty() {
            secret::from_env(&env, "oauth_client_secret_env").map_err(config_error)?
        } else {
            Secret::default()
        }
    };
    match provider {
        Provider::Microsoft | Provider::Generic => {
            if client_id.is_empty() {
                return Err(missing(
                    "smtp.oauth_client_id",
                    "the application (client) id of the app registration",
                ));
            }
            if client_secret.is_empty() {
                return Err(missing(
                    "a client secret",
                    "smtp.oauth_client_secret_file, smtp.oauth_client_secret_env or \
                     smtp.oauth_client_secret",
                ));
            }
        }
        Provider::MicrosoftDelegated | Provider::GoogleUser => {
            if client_id.is_empty() {
                return Err(missing(
                    "smtp.oauth_client_id",
                    "the client id of the app the mailbox signed in with",
                ));
            }
            if provider == Provider::GoogleUser && client_secret.is_empty() {
                return Err(missing(
                    "a client secret",
                    "the OAuth client's secret: smtp.oauth_client_secret_file, \
                     smtp.oauth_client_secret_env or smtp.oauth_client_secret",
                ));
            }
            if refresh_token_file.is_none() {
                return Err(missing(
                    "smtp.oauth_refresh_token_file",
                    "the file smtp-doctor oauth-login writes the refresh token to",
                ));
            }
        }
        Provider::Google => {
            if key_file.is_none() {
                return Err(missing(
                    "smtp.oauth_key_file",
                    "the service account's JSON key file",
                ));
            }
        }
    }
    if provider == Provider::Microsoft && tenant.is_empty() && token_url.is_none() {
        return Err(missing(
            "smtp.oauth_tenant",
            "the directory (tenant) id or domain, e.g. example.onmicrosoft.com",
        ));
    }
    if provider == Provider::Generic && token_url.is_none() {
        return Err(missing("smtp.oauth_token_url", "the token endpoint"));
    }
    if username.is_empty() {
        return Err(missing("smtp.username", "the mailbox to send as"));
    }
    Ok(Some(OAuthSettings {
        provider,
        tenant,
        token_url,
        client_id,
        client_secret,
        scope,
        key_file,
        user: username.to_string(),
        cafile,
        refresh_token_file,
    }))
}

fn config_error(e: SecretError) -> Error {
    Error::Config(e.0)
}

/// This machine's host name, the default for the EHLO name and the Message-ID domain.
pub fn system_hostname() -> String {
    let name = crate::sys::hostname().unwrap_or_default();
    if name.is_empty() || name.bytes().any(|b| !b.is_ascii_graphic()) {
        "localhost".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests;
