//! Timestamps for `since=T`: the time a client asks for, and the time at the
//! start of a log line, in the formats logs really use. Pure functions on
//! bytes, no time-zone database: a time is kept as written (its wall clock,
//! counted in nanoseconds as if it were UTC) plus its zone offset when it
//! has one. A zone-less `T` is compared with each line's wall clock as
//! written; an absolute `T` (RFC 3339 with a zone, or relative to now) with
//! each line's instant, a zone-less line being taken as UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// The common/combined log format's time is looked for in this many first
/// bytes of a line (it follows the client address, identity and user).
pub const STAMP_HEAD: usize = 200;

/// The formats recognised at the start of a line, for the 422 reason and the
/// documentation.
pub const KNOWN_FORMATS: &str = "RFC 3339/ISO 8601 (2026-12-01T14:02:03Z, 2026-12-01 14:02:03,123), \
     syslog (Dec  1 14:02:03), common/combined log format ([01/Dec/2026:14:02:03 +0000]), \
     nginx error log (2026/12/01 14:02:03)";

/// What `since=` accepts, for the 400 reason.
pub const TARGET_FORMS: &str = "2026-12-01T14:02:00Z, 2026-12-01T14:02:00+01:00, 2026-12-01 14:02[:00] (no zone) or -90s, -15m, -2h, -1d";

const NANOS: i128 = 1_000_000_000;

/// A line's time: its wall clock as written (nanoseconds since 1970 as if
/// UTC) and its zone's offset east of UTC in seconds, when it names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub wall: i128,
    pub offset: Option<i64>,
}

impl Stamp {
    /// The instant, a zone-less time taken as UTC.
    pub fn instant(&self) -> i128 {
        self.wall - i128::from(self.offset.unwrap_or(0)) * NANOS
    }
}

/// The time `since=` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An instant (RFC 3339 with a zone, or relative to now), in
    /// nanoseconds since 1970 UTC.
    Instant(i128),
    /// A wall-clock time without a zone, compared with lines as written.
    Wall(i128),
}

impl Target {
    /// True when a line stamped `s` is at or after the target.
    pub fn reached_by(&self, s: &Stamp) -> bool {
        match *self {
            Target::Instant(t) => s.instant() >= t,
            Target::Wall(t) => s.wall >= t,
        }
    }
}

/// The year and month of a file's modification time: syslog lines carry no
/// year, so theirs is the file's, or the one before for a month later in the
/// year than the file's (a log written across New Year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearHint {
    pub year: i64,
    pub month: u32,
}

impl YearHint {
    pub fn from_time(t: SystemTime) -> Self {
        let secs = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        };
        let (year, month, _) = civil_from_days(secs.div_euclid(86_400));
        YearHint { year, month }
    }
}

/// Parses `since=`'s value; `now` is for the relative forms. Errors are 400
/// reasons.
pub fn parse_target(text: &str, now: SystemTime) -> Result<Target, String> {
    // The value is echoed in a one-line reason: escaped and bounded.
    let bad = || {
        let shown: String = text.chars().take(64).flat_map(char::escape_debug).collect();
        format!("'{shown}' is not a time; use {TARGET_FORMS}")
    };
    let b = text.trim().as_bytes();
    if let Some(rel) = b.strip_prefix(b"-") {
        let (num, unit) = rel.split_at(rel.len().saturating_sub(1));
        let unit_secs: i128 = match unit {
            b"s" => 1,
            b"m" => 60,
            b"h" => 3600,
            b"d" => 86_400,
            _ => return Err(bad()),
        };
        if num.is_empty() || num.len() > 9 || !num.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let n: i128 = std::str::from_utf8(num)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(_) => 0,
        };
        return Ok(Target::Instant(now - n * unit_secs * NANOS));
    }
    // A date alone means its midnight.
    if b.len() == 10
        && let Some((wall, 10)) = date(b, b'-')
    {
        return Ok(Target::Wall(wall));
    }
    match iso(b) {
        Some((s, n)) if n == b.len() => Ok(match s.offset {
            Some(_) => Target::Instant(s.instant()),
            None => Target::Wall(s.wall),
        }),
        _ => Err(bad()),
    }
}

/// The timestamp a log line starts with (after an optional `[`), or the
/// common log format's `[01/Dec/2026:14:02:03 +0000]` within its first
/// `STAMP_HEAD` bytes. `line` may hold more than the line's head.
pub fn line_stamp(line: &[u8], hint: YearHint) -> Option<Stamp> {
    let head = &line[..line.len().min(STAMP_HEAD)];
    let start = head.strip_prefix(b"[").unwrap_or(head);
    if let Some((s, _)) = iso(start) {
        return Some(s);
    }
    if let Some(s) = syslog(start, hint) {
        return Some(s);
    }
    head.iter()
        .enumerate()
        .filter(|&(_, &c)| c == b'[')
        .find_map(|(i, _)| clf(&head[i + 1..]))
}

/// `n` ASCII digits at `b[at..]` as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let d = b.get(at..at + n)?;
    d.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD` (with `sep` between the parts): its midnight and length.
fn date(b: &[u8], sep: u8) -> Option<(i128, usize)> {
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&sep) || b.get(7) != Some(&sep) {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    Some((i128::from(days) * 86_400 * NANOS, 10))
}

/// `HH:MM[:SS][(.|,)fraction]` at `b[at..]`: nanoseconds into the day and
/// the position after it.
fn clock(b: &[u8], at: usize, seconds_required: bool) -> Option<(i128, usize)> {
    let hour = digits(b, at, 2)?;
    if b.get(at + 2) != Some(&b':') {
        return None;
    }
    let minute = digits(b, at + 3, 2)?;
    let mut i = at + 5;
    let mut second = 0;
    if b.get(i) == Some(&b':') {
        second = digits(b, i + 1, 2)?;
        i += 3;
    } else if seconds_required {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut nanos: i128 = 0;
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let mut scale = NANOS / 10;
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            nanos += i128::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let secs = i128::from(hour * 3600 + minute * 60 + second);
    Some((secs * NANOS + nanos, i))
}

/// RFC 3339 / ISO 8601: `YYYY-MM-DD` (or `YYYY/MM/DD`, nginx's error log),
/// `T` or a space, a clock, and an optional zone (`Z`, `+01:00`, `+0100`,
/// `+01`). Returns the stamp and the bytes it took.
fn iso(b: &[u8]) -> Option<(Stamp, usize)> {
    let sep = *b.get(4)?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    let (day, mut i) = date(b, sep)?;
    if !matches!(b.get(i), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (time, after) = clock(b, i + 1, false)?;
    i = after;
    let mut offset = None;
    match b.get(i) {
        Some(b'Z' | b'z') => {
            offset = Some(0);
            i += 1;
        }
        Some(&c @ (b'+' | b'-')) => {
            if let Some(h) = digits(b, i + 1, 2) {
                let (m, len) = if b.get(i + 3) == Some(&b':') {
                    (digits(b, i + 4, 2), 6)
                } else if let Some(m) = digits(b, i + 3, 2) {
                    (Some(m), 5)
                } else {
                    (Some(0), 3)
                };
                if let Some(m) = m.filter(|&m| h <= 23 && m <= 59) {
                    let secs = i64::from(h * 3600 + m * 60);
                    offset = Some(if c == b'-' { -secs } else { secs });
                    i += len;
                }
            }
        }
        _ => {}
    }
    Some((
        Stamp {
            wall: day + time,
            offset,
        },
        i,
    ))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn month_of(b: &[u8], at: usize) -> Option<u32> {
    let name = b.get(at..at + 3)?;
    MONTHS
        .iter()
        .position(|m| &m[..] == name)
        .map(|i| i as u32 + 1)
}

/// Syslog (RFC 3164): `Dec  1 14:02:03` or `Dec 01 14:02:03`, no year.
fn syslog(b: &[u8], hint: YearHint) -> Option<Stamp> {
    let month = month_of(b, 0)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let (day, at) = match (b.get(4), b.get(5)) {
        (Some(b' '), _) => (digits(b, 5, 1)?, 6),
        (_, Some(b' ')) => (digits(b, 4, 1)?, 5),
        _ => (digits(b, 4, 2)?, 6),
    };
    if b.get(at) != Some(&b' ') || !(1..=31).contains(&day) {
        return None;
    }
    let (time, _) = clock(b, at + 1, true)?;
    let year = if month > hint.month {
        hint.year - 1
    } else {
        hint.year
    };
    let days = days_from_civil(year, month, day);
    Some(Stamp {
        wall: i128::from(days) * 86_400 * NANOS + time,
        offset: None,
    })
}

/// Common/combined log format, after its `[`: `01/Dec/2026:14:02:03 +0000]`.
fn clf(b: &[u8]) -> Option<Stamp> {
    let day = digits(b, 0, 2)?;
    if b.get(2) != Some(&b'/') || b.get(6) != Some(&b'/') || b.get(11) != Some(&b':') {
        return None;
    }
    let month = month_of(b, 3)?;
    let year = digits(b, 7, 4)?;
    let (time, mut i) = clock(b, 12, true)?;
    let mut offset = None;
    if b.get(i) == Some(&b' ') {
        let sign = b.get(i + 1).copied();
        if let (Some(c @ (b'+' | b'-')), Some(h), Some(m)) =
            (sign, digits(b, i + 2, 2), digits(b, i + 4, 2))
        {
            let secs = i64::from(h * 3600 + m * 60);
            offset = Some(if c == b'-' { -secs } else { secs });
            i += 6;
        }
    }
    if b.get(i) != Some(&b']') || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    Some(Stamp {
        wall: i128::from(days) * 86_400 * NANOS + time,
        offset,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted since 1970-01-01 (Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const HINT: YearHint = YearHint {
        year: 2026,
        month: 12,
    };

    /// Wall-clock nanoseconds of a date and time, for expectations.
    fn wall(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i128 {
        (i128::from(days_from_civil(y, mo, d)) * 86_400 + i128::from(h * 3600 + mi * 60 + s))
            * NANOS
    }

    #[test]
    fn calendar_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for z in [-800_000, -1, 0, 1, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000); // 2026-11-18
        assert_eq!(
            YearHint::from_time(t),
            YearHint {
                year: 2026,
                month: 11
            }
        );
    }

    #[test]
    fn iso_lines() {
        let at = wall(2026, 12, 1, 14, 2, 3);
        for (line, w, off) in [
            ("2026-12-01T14:02:03Z GET /", at, Some(0)),
            ("2026-12-01T14:02:03+01:00 x", at, Some(3600)),
            ("2026-12-01T14:02:03-0530 x", at, Some(-19_800)),
            ("2026-12-01T14:02:03+01 x", at, Some(3600)),
            ("2026-12-01 14:02:03 INFO", at, None),
            (
                "2026-12-01 14:02:03,123 INFO python",
                at + 123_000_000,
                None,
            ),
            ("2026-12-01T14:02:03.5Z", at + 500_000_000, Some(0)),
            (
                "2026-12-01T14:02:03.123456789123Z",
                at + 123_456_789,
                Some(0),
            ),
            ("[2026-12-01 14:02:03] bracketed", at, None),
            ("2026-12-01 14:02 minutes only", at - 3 * NANOS, None),
            ("2026/12/01 14:02:03 [error] 1#1: nginx", at, None),
        ] {
            assert_eq!(
                line_stamp(line.as_bytes(), HINT),
                Some(Stamp {
                    wall: w,
                    offset: off
                }),
                "{line}"
            );
        }
        for line in [
            "",
            "    at com.example.Foo(Foo.java:12)",
            "2026-12-01 is a date",
            "2026-13-01 14:02:03 bad month",
            "2026-12-01 25:02:03 bad hour",
            "2026-12-01X14:02:03",
            "2026-12/01 14:02:03",
            "INFO 2026-12-01 14:02:03 not at the start",
            "Traceback (most recent call last):",
        ] {
            assert_eq!(line_stamp(line.as_bytes(), HINT), None, "{line}");
        }
    }

    #[test]
    fn syslog_lines_take_the_year_from_the_file() {
        let january = YearHint {
            year: 2027,
            month: 1,
        };
        for (line, hint, want) in [
            (
                "Dec  1 14:02:03 host sshd[1]: x",
                HINT,
                Some(wall(2026, 12, 1, 14, 2, 3)),
            ),
            (
                "Dec 01 14:02:03 host",
                HINT,
                Some(wall(2026, 12, 1, 14, 2, 3)),
            ),
            (
                "Dec 11 14:02:03 host",
                HINT,
                Some(wall(2026, 12, 11, 14, 2, 3)),
            ),
            (
                "Dec 31 23:59:59 host",
                january,
                Some(wall(2026, 12, 31, 23, 59, 59)),
            ),
            (
                "Jan  1 00:00:01 host",
                january,
                Some(wall(2027, 1, 1, 0, 0, 1)),
            ),
            ("Dec  1 14:02 host", HINT, None),
            ("Dex  1 14:02:03 host", HINT, None),
            ("December 1 14:02:03", HINT, None),
        ] {
            let got = line_stamp(line.as_bytes(), hint).map(|s| s.wall);
            assert_eq!(got, want, "{line}");
        }
    }

    #[test]
    fn common_log_format_anywhere_in_the_head() {
        let at = wall(2026, 12, 1, 14, 2, 3);
        let line = b"203.0.113.9 - frank [01/Dec/2026:14:02:03 +0100] \"GET / HTTP/1.1\" 200 2326";
        assert_eq!(
            line_stamp(line, HINT),
            Some(Stamp {
                wall: at,
                offset: Some(3600)
            })
        );
        let late = format!("{} [01/Dec/2026:14:02:03 +0000]", "x".repeat(STAMP_HEAD));
        assert_eq!(line_stamp(late.as_bytes(), HINT), None);
        assert_eq!(line_stamp(b"x [01/Dec/2026:14:02:03 +0000", HINT), None);
        assert_eq!(
            line_stamp(b"x [a] [01/Dec/2026:14:02:03]", HINT).map(|s| s.wall),
            Some(at)
        );
    }

    #[test]
    fn targets() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let now_ns = 1_000_000 * NANOS;
        let at = wall(2026, 12, 1, 14, 2, 0);
        for (text, want) in [
            ("2026-12-01T14:02:00Z", Target::Instant(at)),
            (
                "2026-12-01T14:02:00+01:00",
                Target::Instant(at - 3600 * NANOS),
            ),
            (
                "2026-12-01T14:02:00.250Z",
                Target::Instant(at + 250_000_000),
            ),
            ("2026-12-01 14:02", Target::Wall(at)),
            ("2026-12-01T14:02:00", Target::Wall(at)),
            ("2026-12-01", Target::Wall(wall(2026, 12, 1, 0, 0, 0))),
            ("-90s", Target::Instant(now_ns - 90 * NANOS)),
            ("-15m", Target::Instant(now_ns - 900 * NANOS)),
            ("-2h", Target::Instant(now_ns - 7200 * NANOS)),
            ("-1d", Target::Instant(now_ns - 86_400 * NANOS)),
        ] {
            assert_eq!(parse_target(text, now), Ok(want), "{text}");
        }
        let e = parse_target("a\nb\u{1b}", now).unwrap_err();
        assert!(e.starts_with("'a\\nb\\u{1b}'"), "{e}");
        for text in [
            "",
            "yesterday",
            "-5",
            "-5w",
            "-s",
            "--5s",
            "2026-12-01 14",
            "2026-12-01T14:02:00Zx",
            "-99999999999d",
        ] {
            let e = parse_target(text, now).unwrap_err();
            assert!(e.contains("-15m"), "{text}: {e}");
            assert!(e.starts_with(&format!("'{text}'")), "{e}");
        }
    }

    #[test]
    fn comparisons_follow_the_zone_rules() {
        let line = |s: &str| line_stamp(s.as_bytes(), HINT).unwrap();
        let now = UNIX_EPOCH;
        // Zone-less T against a zoned line: the line's clock as written.
        let t = parse_target("2026-12-01 14:02", now).unwrap();
        assert!(t.reached_by(&line("2026-12-01T14:02:00+05:00")));
        assert!(!t.reached_by(&line("2026-12-01T14:01:59-05:00")));
        // Absolute T against a zoned line: instants.
        let t = parse_target("2026-12-01T14:02:00Z", now).unwrap();
        assert!(!t.reached_by(&line("2026-12-01T14:02:00+05:00")));
        assert!(t.reached_by(&line("2026-12-01T10:01:00-05:00")));
        // Absolute T against a zone-less line: the line taken as UTC.
        assert!(t.reached_by(&line("2026-12-01 14:02:00")));
        assert!(!t.reached_by(&line("Dec  1 14:01:59 host")));
    }
}
