//! The administrator's secrets are bound to the administrator's whole endpoint.
//!
//! A password from php.ini (or `php_admin_value`, `password_file`, `password_env`) and a token
//! from `smtp.oauth_*` are used only with the servers, port, TLS mode, STARTTLS policy, auth
//! mode and account the administrator set. A script that changes any of these (per call,
//! `ini_set()`, `.user.ini`) either brings its own password or is refused here, before anything
//! is sent: otherwise `['port' => 2525]` would hand the php.ini password to whatever listens
//! there.

use super::values::{as_string, parse_auth, parse_hosts, parse_port, parse_starttls};
use super::{AuthMode, Ini, Server, StartTls, Value, SETTINGS};
use crate::error::{Error, Result};

/// Where and as whom a secret is used.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Endpoint {
    pub servers: Vec<Server>,
    pub starttls: StartTls,
    pub auth: AuthMode,
    pub username: String,
}

/// The servers of a `smtp.host` list with `smtp.port` applied: a port in the list wins, else
/// `port`, else 465 for ssl:// or tls://, else 25.
pub(super) fn servers(host: &str, port: &Value) -> Result<Vec<Server>> {
    let port = match port {
        Value::Str(s) if s.trim().is_empty() => None,
        Value::Null => None,
        v => Some(parse_port(v)?),
    };
    Ok(parse_hosts(host)?
        .into_iter()
        .map(|e| Server {
            port: e
                .port
                .or(port)
                .unwrap_or(if e.implicit_tls { 465 } else { 25 }),
            host: e.host,
            implicit_tls: e.implicit_tls,
        })
        .collect())
}

/// The endpoint the administrator set: php.ini and `php_admin_value`, never a script's change.
pub(super) fn admins(ini: &dyn Ini) -> Result<Endpoint> {
    let get = |name: &str| -> Value {
        let default = SETTINGS.iter().find(|s| s.name == name).map(|s| s.default);
        Value::Str(
            ini.admin(name)
                .unwrap_or_else(|| default.unwrap_or_default().into()),
        )
    };
    let text = |name: &str| as_string(name, &get(name));
    Ok(Endpoint {
        servers: servers(&text("host")?, &get("port"))?,
        starttls: parse_starttls(&text("starttls")?)?,
        auth: parse_auth(&get("auth"))?,
        username: text("username")?,
    })
}

/// Which secret of the administrator's a call would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AdminSecret {
    Password,
    Token,
}

/// Refuses a call that would use the administrator's secret with anything but the
/// administrator's endpoint. A subset or reordering of the administrator's servers and a
/// stricter STARTTLS policy are no change that could leak the secret, so they pass.
pub(super) fn check(secret: AdminSecret, this: &Endpoint, admin: &Endpoint) -> Result<()> {
    let mut changes = Vec::new();
    let same_server = |a: &Server, b: &Server| {
        a.host.eq_ignore_ascii_case(&b.host) && a.port == b.port && a.implicit_tls == b.implicit_tls
    };
    if let Some(other) = this
        .servers
        .iter()
        .find(|s| !admin.servers.iter().any(|a| same_server(s, a)))
    {
        let list = admin
            .servers
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join(", ");
        changes.push(format!(
            "the server \"{}\" (the administrator's: \"{list}\"; smtp.host, smtp.port)",
            describe(other)
        ));
    }
    let strength = |s: StartTls| match s {
        StartTls::Off => 0,
        StartTls::Auto => 1,
        StartTls::Required => 2,
    };
    if strength(this.starttls) < strength(admin.starttls) {
        changes.push(format!(
            "smtp.starttls to \"{}\" (the administrator's: \"{}\")",
            starttls_name(this.starttls),
            starttls_name(admin.starttls)
        ));
    }
    if this.auth != admin.auth {
        changes.push(format!(
            "smtp.auth to \"{}\" (the administrator's: \"{}\")",
            auth_name(this.auth),
            auth_name(admin.auth)
        ));
    }
    if this.username != admin.username {
        changes.push(format!(
            "smtp.username to \"{}\" (the administrator's: \"{}\")",
            this.username, admin.username
        ));
    }
    if changes.is_empty() {
        return Ok(());
    }
    let changes = changes.join("; ");
    Err(Error::Config(match secret {
        AdminSecret::Password => format!(
            "the SMTP password comes from the administrator's settings (php.ini or \
             php_admin_value), which use it only with their own server and account, but this \
             call changes {changes}. Give this server's password with the call \
             ($options['password'] or ini_set('smtp.password', ...)), or ask the administrator \
             to change these settings"
        ),
        AdminSecret::Token => format!(
            "the OAuth token comes from the administrator's smtp.oauth_* settings, which use it \
             only with their own server and mailbox, but this call changes {changes}. Send with \
             the administrator's settings, or ask the administrator to change them (php.ini or \
             php_admin_value)"
        ),
    }))
}

fn describe(s: &Server) -> String {
    let scheme = if s.implicit_tls { "ssl://" } else { "" };
    format!("{scheme}{}:{}", s.host, s.port)
}

fn starttls_name(s: StartTls) -> &'static str {
    match s {
        StartTls::Off => "off",
        StartTls::Auto => "auto",
        StartTls::Required => "required",
    }
}

fn auth_name(a: AuthMode) -> String {
    match a {
        AuthMode::Off => "0".into(),
        AuthMode::Auto => "1".into(),
        AuthMode::Only(m) => m.to_string(),
    }
}
