//! Warnings and, with `smtp.debug=1`, the SMTP conversation go to PHP's error log, where admins
//! look; RUST_LOG (env_logger syntax, e.g. `RUST_LOG=smtp=debug`) adds stderr output for
//! developers.

use super::zend;
use crate::transport::WIRE_LOG;

struct PhpLogger {
    env: env_logger::Logger,
}

impl PhpLogger {
    fn for_php(m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn || (m.target() == WIRE_LOG && m.level() <= log::Level::Info)
    }
}

impl log::Log for PhpLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        Self::for_php(m) || self.env.enabled(m)
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.env.matches(record) {
            self.env.log(record);
        }
        if Self::for_php(record.metadata()) {
            zend::log_error(&format!("smtp: {}", record.args()));
        }
    }

    fn flush(&self) {}
}

/// Installs the logger (once per process).
pub fn install() {
    let env =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off")).build();
    let max = env.filter().max(log::LevelFilter::Info);
    if log::set_boxed_logger(Box::new(PhpLogger { env })).is_ok() {
        log::set_max_level(max);
    }
}
