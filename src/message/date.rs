//! Message-IDs and RFC 5322 dates.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static MESSAGE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `<time.pid.counter.random@idhost>`: unique across processes and machines without a shared
/// counter. Written digit by digit: `format!` cost more than the rest of the id.
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
    let mut id = String::with_capacity(72 + idhost.len());
    id.push('<');
    // Microseconds fit in 64 bits for the next 500,000 years; 128-bit division is slow.
    push_digits(&mut id, now.as_micros() as u64, 16, 0);
    id.push('.');
    push_digits(&mut id, u64::from(std::process::id()), 16, 0);
    id.push('.');
    push_digits(&mut id, count, 10, 0);
    id.push('.');
    push_digits(&mut id, h.finish(), 16, 16);
    id.push('@');
    id.push_str(idhost);
    id.push('>');
    id
}

/// `n` in base 10 or 16 (lower case), zero-padded to `width` digits.
fn push_digits(out: &mut String, mut n: u64, base: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b"0123456789abcdef"[(n % base) as usize];
        n /= base;
        if n == 0 && digits.len() - i >= width {
            break;
        }
    }
    // ASCII digits only.
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
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

thread_local! {
    /// The last date written and its second: every mail within one second has the same Date.
    static LAST_DATE: std::cell::RefCell<(u64, String)> =
        const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// RFC 5322 date in UTC, e.g. `Tue, 24 Nov 2026 14:05:09 +0000`.
pub fn rfc5322_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    LAST_DATE.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            *last = (secs, format_date(t));
        }
        last.1.clone()
    })
}

fn format_date(t: SystemTime) -> String {
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

    #[test]
    fn message_id_digits_are_those_of_format() {
        for (n, base, width) in [
            (0u64, 16, 0),
            (0, 16, 16),
            (0x1f, 16, 16),
            (u64::MAX, 16, 16),
            (1_796_000_000_123_456, 16, 0),
            (u64::MAX, 16, 0),
            (0, 10, 0),
            (1234567890, 10, 0),
            (u64::MAX, 10, 0),
        ] {
            let mut s = String::new();
            push_digits(&mut s, n, base, width);
            let want = match (base, width) {
                (16, 16) => format!("{n:016x}"),
                (16, _) => format!("{n:x}"),
                _ => format!("{n}"),
            };
            assert_eq!(s, want);
        }
    }

    #[test]
    fn the_date_of_each_second_is_its_own() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_529_109);
        assert_eq!(rfc5322_date(t), "Tue, 24 Nov 2026 14:05:09 +0000");
        assert_eq!(
            rfc5322_date(t + Duration::from_millis(999)),
            "Tue, 24 Nov 2026 14:05:09 +0000"
        );
        assert_eq!(
            rfc5322_date(t + Duration::from_secs(1)),
            "Tue, 24 Nov 2026 14:05:10 +0000"
        );
        assert_eq!(rfc5322_date(t), "Tue, 24 Nov 2026 14:05:09 +0000");
    }
}
