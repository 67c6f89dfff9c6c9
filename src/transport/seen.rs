//! What the last EHLO reply of this process offered, for phpinfo(): which extensions a message
//! can count on at the server mail went to last.

use parking_lot::Mutex;

use super::Capabilities;

static LAST: Mutex<Option<(String, String)>> = Mutex::new(None);

/// Called with each EHLO reply (after STARTTLS, the one that counts replaces the first).
pub(super) fn record(endpoint: String, caps: &Capabilities) {
    *LAST.lock() = Some((endpoint, caps.extensions()));
}

/// `(host:port, "offered: ...; not offered: ...")` of the last EHLO reply, if any.
pub fn last_extensions() -> Option<(String, String)> {
    LAST.lock().clone()
}
