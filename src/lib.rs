//! php-smtp: PHP's mail over SMTP, natively.
//!
//! Data flows one way: settings (`config`) → message (`message`, `address`, `encode`) →
//! connection (`pool`, `transport`, over the leaves `net` and `tls`) → server; errors
//! (`error`) flow back to the PHP glue (`php`), the only part that knows PHP.

pub mod address;
pub mod config;
pub mod doctor;
pub mod encode;
pub mod error;
pub mod mail_compat;
pub mod message;
pub mod net;
pub mod oauth;
pub mod pool;
pub mod secret;
pub mod sys;
pub mod tls;
pub mod transport;

/// `smtp.max_connections` slots belong to the pool; the PHP module and the tests name them here.
pub use pool::slots;

#[cfg(feature = "php")]
pub mod php;
