//! Message-IDs and RFC 5322 dates.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static MESSAGE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `<time.pid.counter.random@idhost>`: unique across processes and machines without a shared
/// counter.
pub fn generate_message_id(idhost: &str) -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let count = MESSAGE_COUNTER.fetch_add(1, Ordering::Relaxed);
    // RandomState is seeded from the OS per process; enough to keep two machines apart.
    let mut h = RandomState::new().build_hasher();
    h.write_u64(count);
    h.write_u128(now.as_nanos());
    format!(
        "<{:x}.{:x}.{}.{:016x}@{}>",
        now.as_micros(),
        std::process::id(),
        count,
        h.finish(),
        idhost
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment in UTC, split into calendar fields.
pub struct UtcTime {
    pub year: i64,
    /// 1-12
    pub month: usize,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    /// 0 = Thursday (1970-01-01 was one).
    weekday_from_thursday: usize,
}

impl UtcTime {
    pub fn of(t: SystemTime) -> UtcTime {
        let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        UtcTime {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: month as usize,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            weekday_from_thursday: days.rem_euclid(7) as usize,
        }
    }

    pub fn month_name(&self) -> &'static str {
        MONTHS[self.month - 1]
    }
}

/// RFC 5322 date in UTC, e.g. `Tue, 24 Nov 2026 14:05:09 +0000`.
pub fn rfc5322_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let u = UtcTime::of(t);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[u.weekday_from_thursday],
        u.day,
        u.month_name(),
        u.year,
        u.hour,
        u.minute,
        u.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 +0000");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_529_109);
        assert_eq!(rfc5322_date(t), "Tue, 24 Nov 2026 14:05:09 +0000");
    }

    #[test]
    fn message_ids_are_unique() {
        let a = generate_message_id("h");
        let b = generate_message_id("h");
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@h>"));
    }
}
