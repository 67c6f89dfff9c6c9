//! The phpinfo() section: the effective settings (password masked), the pool's counters, and
//! the ini table.

use ext_php_rs::zend::ModuleEntry;

use super::{ini, zend};
use crate::config::AuthMode;
use crate::pool;

/// MINFO. Called by PHP while it builds phpinfo(): nothing here may panic into the engine.
pub extern "C" fn module_info(module: *mut ModuleEntry) {
    zend::guard("phpinfo()", (), || {
        zend::info_table_start();
        rows();
        zend::info_table_end();
        // SAFETY: PHP passed this module's entry.
        unsafe { zend::info_ini_entries(module) };
    });
}

fn rows() {
    zend::info_row("SMTP support", "enabled");
    zend::info_row("Version", env!("CARGO_PKG_VERSION"));
    zend::info_row(
        "mail() override",
        if ini::override_mail() { "on" } else { "off" },
    );
    match ini::settings(&[]) {
        Ok(s) => {
            let tls = if s.implicit_tls {
                "implicit TLS"
            } else {
                "STARTTLS when offered"
            };
            zend::info_row("Server", &format!("{} ({tls})", s.endpoint()));
            let user = if s.auth == AuthMode::Off {
                "(no auth)".to_string()
            } else {
                s.username.clone()
            };
            zend::info_row("Auth user", &user);
            if let Some(o) = &s.oauth {
                zend::info_row(
                    "OAuth 2.0",
                    &format!(
                        "{} (client {}), tokens for XOAUTH2",
                        o.provider.name(),
                        o.client_id
                    ),
                );
            }
            zend::info_row(
                "Password",
                if s.password.is_empty() {
                    "(not set)"
                } else {
                    "********"
                },
            );
        }
        Err(e) => zend::info_row("Settings", &format!("invalid: {e}")),
    }
    let st = pool::stats();
    for (name, value) in [
        ("Connections opened", st.connections_opened),
        ("Connections reused", st.connections_reused),
        ("Retries", st.retries),
        ("Messages sent", st.messages_sent),
        ("Failures", st.failures),
        ("Outcome unknown", st.unknown),
        ("Partial deliveries", st.partial),
    ] {
        zend::info_row(name, &value.to_string());
    }
    zend::info_row(
        "Last server",
        pool::last_server().as_deref().unwrap_or("(none yet)"),
    );
    let extensions = crate::transport::last_extensions().map_or_else(
        || "(none yet)".to_string(),
        |(at, ext)| format!("{at}: {ext}"),
    );
    zend::info_row("Last server's extensions", &extensions);
}
