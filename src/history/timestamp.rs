//! Timestamps for `since=T`, the timeline and merged views: the time a
//! client asks for, and the time of a log line wherever real logs put it —
//! a JSON line's time key, logfmt's `time=`, the first known form in a
//! line's first 64 bytes, one in brackets within 200 (DESIGN.md "History",
//! in that order). `line_time` runs per line inside binary searches, so it
//! allocates nothing and uses no regular expressions: each form is a small
//! hand-written parser over bytes. No time-zone database: a time is kept as
//! written (its wall clock, counted in nanoseconds as if it were UTC) plus
//! the zone offset it writes (`Z`, `+01:00`, ` +0100`, or a name such as
//! `CET`), read, never dropped. A zone-less `T` is compared with each line's
//! wall clock as written; an absolute `T` (RFC 3339 with a zone, or
//! relative to now) with each line's instant, a zone-less line being taken
//! as UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// The bytes of a line that `line_time` looks at: a JSON line's key is
/// looked for in its first 4 KiB (Docker's json-file puts `time` last, after
/// the whole message). A caller passes at least this much of a long line.
pub(crate) const STAMP_HEAD: usize = 4096;

/// A timestamp in brackets is looked for in this many first bytes of a line
/// (the common log format's follows the client address, identity and user).
pub(crate) const BRACKET_HEAD: usize = 200;

/// The forms `line_time` knows, for the 422 reason and the documentation.
pub(crate) const KNOWN_FORMATS: &str = "JSON lines by their time, ts, timestamp, @timestamp, t ($date), datetime, date or \
     __REALTIME_TIMESTAMP key (RFC 3339, or epoch s/ms/us/ns); logfmt time=/ts=; within a line's first 64 bytes: \
     RFC 3339/ISO 8601 (2026-12-01T14:02:03Z, 2026-12-01 14:02:03,123 +0100, 2026-12-01 14:02:03.123 CET, \
     a weekday before allowed), syslog (Dec  1 14:02:03), ctime (Tue Dec  1 14:02:03 2026), \
     common log format (01/Dec/2026:14:02:03 +0000, 01/Dec/2026 14:02:03), nginx/Go (2026/12/01 14:02:03), \
     PHP/BIND (01-Dec-2026 14:02:03.123), Redis (01 Dec 2026 14:02:03.123), MySQL (261201 14:02:03), \
     Java (Dec 01, 2026 2:02:03 PM), klog (I1201 14:02:03.123456), epoch seconds at the start \
     (1796133723.123, 1796133723:), a time alone (14:02:03.123); or one of these in brackets within 200 bytes; \
     zones (Z, +01:00, +0100, UTC, CET, EST, ...) are read";

/// What `since=` accepts, for the 400 reason.
pub(crate) const TARGET_FORMS: &str = "2026-12-01T14:02:00Z, 2026-12-01T14:02:00+01:00, 2026-12-01 14:02[:00] (no zone) or -90s, -15m, -2h, -1d";

const NANOS: i128 = 1_000_000_000;

/// A line's time: its wall clock as written (nanoseconds since 1970 as if
/// UTC) and its zone's offset east of UTC in seconds, when it names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub wall: i128,
    pub offset: Option<i64>,
}

impl Stamp {
    /// The instant (nanoseconds since 1970 UTC), a zone-less time taken as
    /// UTC: what the timeline and a merge of files compare.
    pub(crate) fn instant(&self) -> i128 {
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
    pub(crate) fn reached_by(&self, s: &Stamp) -> bool {
        match *self {
            Target::Instant(t) => s.instant() >= t,
            Target::Wall(t) => s.wall >= t,
        }
    }
}

/// A file's modification time, for the forms that leave out part of the
/// date: a line without a year (syslog) takes the file's, or the one before
/// for a month later in the year than the file's (a log written across New
/// Year); a time alone takes the file's date, or the day before for a time
/// later in the day than the file's. Build it with `from_time` (or `at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearHint {
    year: i64,
    month: u32,
    /// Days since 1970 of the modification time's date.
    days: i64,
    /// Seconds into that day.
    second: u32,
}

impl YearHint {
    /// The hint of a modification time.
    pub(crate) fn from_time(t: SystemTime) -> Self {
        let secs = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        };
        let days = secs.div_euclid(86_400);
        let (year, month, _) = civil_from_days(days);
        YearHint {
            year,
            month,
            days,
            second: secs.rem_euclid(86_400) as u32,
        }
    }

    /// The year of a month without one: the file's, or the year before for
    /// a month later than the file's.
    fn year_for(&self, month: u32) -> i64 {
        if month > self.month {
            self.year - 1
        } else {
            self.year
        }
    }

    /// The hint of a modification time given as a date and a time of day
    /// (UTC), for tests and callers that already hold one.
    pub const fn at(year: i64, month: u32, day: u32, second: u32) -> Self {
        YearHint {
            year,
            month,
            days: days_from_civil(year, month, day),
            second,
        }
    }
}

/// Parses `since=`'s value; `now` is for the relative forms. Errors are 400
/// reasons.
pub(crate) fn parse_target(text: &str, now: SystemTime) -> Result<Target, String> {
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

/// The timestamp of one log line (without its `\n`; only its first
/// `STAMP_HEAD` bytes are looked at), or None. Called per line by binary
/// searches: it allocates nothing. In DESIGN.md's order: a JSON line by its
/// time key, logfmt's `time=`/`ts=`, the first known form that starts within
/// `FORM_HEAD` bytes, one in brackets within `BRACKET_HEAD` bytes; colour
/// codes are skipped first.
pub fn line_time(line: &[u8], hint: &YearHint) -> Option<Stamp> {
    let line = &line[..line.len().min(STAMP_HEAD)];
    if line.first() == Some(&b'{')
        && let Some(s) = json(line, hint)
    {
        return Some(s);
    }
    let head = &line[..line.len().min(BRACKET_HEAD)];
    if head.contains(&0x1b) {
        let mut clean = [0u8; BRACKET_HEAD];
        let n = strip_colours(head, &mut clean);
        return text_time(&clean[..n], hint);
    }
    text_time(head, hint)
}

/// The bytes a known form must start within (after colour codes).
const FORM_HEAD: usize = 64;

/// Steps after JSON, on a line's head without colour codes.
fn text_time(b: &[u8], hint: &YearHint) -> Option<Stamp> {
    if let Some(s) = logfmt(b, hint) {
        return Some(s);
    }
    if let Some(s) = epoch_at_start(b).or_else(|| klog(b, hint)) {
        return Some(s);
    }
    for i in 0..b.len().min(FORM_HEAD) {
        // Every form starts with a digit or a capital letter.
        if (b[i].is_ascii_digit() || b[i].is_ascii_uppercase())
            && starts_word(b, i)
            && let Some(s) = form_at(&b[i..], hint, i == 0 || b[i - 1] == b'[')
        {
            return Some(s);
        }
    }
    b.iter()
        .enumerate()
        .filter(|&(_, &c)| c == b'[')
        .find_map(|(i, _)| form_at(&b[i + 1..], hint, true))
}

/// Copies `b` into `out` without its ANSI escape sequences (CSI `ESC [ …
/// final`, and two-byte `ESC x`); returns the length copied.
fn strip_colours(b: &[u8], out: &mut [u8]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < b.len() && n < out.len() {
        if b[i] == 0x1b {
            if b.get(i + 1) == Some(&b'[') {
                i += 2;
                while i < b.len() && !(0x40..=0x7e).contains(&b[i]) {
                    i += 1;
                }
            } else {
                i += 1;
            }
            i += 1;
            continue;
        }
        out[n] = b[i];
        n += 1;
        i += 1;
    }
    n
}

/// A form may start at `i`: the line's start, or after a byte that cannot
/// be part of a number or a word (not inside `12026-…`, `fe80::12:34:56`).
fn starts_word(b: &[u8], i: usize) -> bool {
    i == 0
        || !matches!(b[i - 1], b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b':' | b'.' | b',' | b'/' | b'-' | b'+' | b'_')
}

/// The JSON keys that carry a line's time, in order of preference.
const JSON_KEYS: [&[u8]; 8] = [
    b"time",
    b"ts",
    b"timestamp",
    b"@timestamp",
    b"t",
    b"datetime",
    b"date",
    b"__REALTIME_TIMESTAMP",
];

/// A JSON line's time: the value of the most preferred key of `JSON_KEYS`
/// that holds one (at any depth), read by a tokenizer that only tells
/// strings, keys and values apart.
fn json(b: &[u8], hint: &YearHint) -> Option<Stamp> {
    let mut best: Option<(usize, Stamp)> = None;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let end = string_end(b, i + 1)?;
        let key = &b[i + 1..end];
        i = end + 1;
        let mut j = skip_space(b, i);
        if b.get(j) != Some(&b':') {
            continue; // a value, not a key
        }
        j = skip_space(b, j + 1);
        let Some(rank) = JSON_KEYS.iter().position(|k| *k == key) else {
            continue;
        };
        if best.is_some_and(|(r, _)| r <= rank) {
            continue;
        }
        if let Some(s) = json_value(b, j, hint) {
            if rank == 0 {
                return Some(s);
            }
            best = Some((rank, s));
        }
    }
    best.map(|(_, s)| s)
}

/// The time a JSON value at `b[j..]` holds: a string in a known form (or of
/// digits, an epoch), a number (epoch seconds, ms, µs or ns by its size), or
/// an object whose first member holds one (`{"$date":…}`, loguru's
/// `{"repr":…}`).
fn json_value(b: &[u8], j: usize, hint: &YearHint) -> Option<Stamp> {
    match *b.get(j)? {
        b'"' => {
            let end = string_end(b, j + 1)?;
            let s = &b[j + 1..end];
            if s.first().is_some_and(u8::is_ascii_digit) && s.iter().all(u8::is_ascii_digit) {
                return epoch_by_size(s, false).map(|(s, _)| s);
            }
            form_at(s, hint, true).or_else(|| epoch_by_size(s, false).map(|(s, _)| s))
        }
        b'0'..=b'9' => epoch_by_size(&b[j..], false).map(|(s, _)| s),
        b'{' => {
            let k = skip_space(b, j + 1);
            if b.get(k) != Some(&b'"') {
                return None;
            }
            let end = string_end(b, k + 1)?;
            let k = skip_space(b, end + 1);
            if b.get(k) != Some(&b':') {
                return None;
            }
            let k = skip_space(b, k + 1);
            // One level only: `{"t":{"$date":{…}}}` is not a time.
            if b.get(k) == Some(&b'{') {
                return None;
            }
            json_value(b, k, hint)
        }
        _ => None,
    }
}

/// The closing quote of a JSON string whose content starts at `b[i..]`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// Epoch times are read only between 2000-01-01 and 2100-01-01 (so that a
/// duration or a count is not taken for a time).
const EPOCH_MIN: i128 = 946_684_800 * NANOS;
const EPOCH_MAX: i128 = 4_102_444_800 * NANOS;

/// An epoch number at `b[0..]`: digits and an optional fraction, in seconds
/// (up to 10 integer digits), milliseconds (13), microseconds (16) or
/// nanoseconds (19); with `seconds_only`, only seconds. Returns the stamp
/// (UTC) and the bytes it took.
fn epoch_by_size(b: &[u8], seconds_only: bool) -> Option<(Stamp, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    let mut int: u64 = 0;
    for &c in &b[..n] {
        int = int * 10 + u64::from(c - b'0');
    }
    let int = i128::from(int);
    let unit: i128 = match n {
        ..=10 => NANOS,
        _ if seconds_only => return None,
        11..=13 => 1_000_000,
        14..=16 => 1_000,
        _ => 1,
    };
    let mut nanos = int * unit;
    let mut i = n;
    if b.get(i) == Some(&b'.') {
        let (f, end) = fraction(b, i + 1, unit as u64);
        nanos += i128::from(f);
        i = end;
    }
    if b.get(i).is_some_and(|c| c.is_ascii_alphanumeric())
        || !(EPOCH_MIN..EPOCH_MAX).contains(&nanos)
    {
        return None;
    }
    Some((
        Stamp {
            wall: nanos,
            offset: Some(0),
        },
        i,
    ))
}

/// Epoch seconds at the start of a line, with a fraction (squid,
/// journalctl `short-unix`) or followed by a colon (mosquitto).
fn epoch_at_start(b: &[u8]) -> Option<Stamp> {
    let (s, n) = epoch_by_size(b, true)?;
    (n > 10 || b.get(n) == Some(&b':')).then_some(s)
}

/// logfmt's `time=` or `ts=` (value quoted or not) at the start of the head
/// or after a space.
fn logfmt(b: &[u8], hint: &YearHint) -> Option<Stamp> {
    let mut i = 0;
    while let Some(k) = b[i..].iter().position(|&c| c == b'=') {
        let eq = i + k;
        i = eq + 1;
        let key_start = b[..eq]
            .iter()
            .rposition(|&c| c == b' ')
            .map_or(0, |p| p + 1);
        let key = &b[key_start..eq];
        if key != b"time" && key != b"ts" {
            continue;
        }
        let v = &b[eq + 1..];
        let v = v.strip_prefix(b"\"").unwrap_or(v);
        if let Some(s) = form_at(v, hint, true).or_else(|| epoch_by_size(v, false).map(|(s, _)| s))
        {
            return Some(s);
        }
    }
    None
}

/// klog/glog's `I1201 14:02:03.123456` (severity, month and day) at the
/// start of a line; the year from the file.
fn klog(b: &[u8], hint: &YearHint) -> Option<Stamp> {
    if !matches!(b.first(), Some(b'I' | b'W' | b'E' | b'F')) || b.get(5) != Some(&b' ') {
        return None;
    }
    let month = digits(b, 1, 2)?;
    let day = digits(b, 3, 2)?;
    let (time, _) = clock(b, 6, true)?;
    Some(Stamp {
        wall: day_of(hint.year_for(month), month, day)? + time,
        offset: None,
    })
}

/// The known forms that start at `b[0]`; a time alone only when
/// `alone_ok` (at the start of a line, a value, or a bracket: elsewhere the
/// clock of a malformed date or of a message would be taken for one).
fn form_at(b: &[u8], hint: &YearHint, alone_ok: bool) -> Option<Stamp> {
    let c = *b.first()?;
    if c.is_ascii_digit() {
        return iso(b)
            .map(|(s, _)| s)
            .or_else(|| day_month_year(b))
            .or_else(|| mysql(b))
            .or_else(|| time_alone(b, hint).filter(|_| alone_ok));
    }
    if !c.is_ascii_uppercase() {
        return None;
    }
    if let Some(rest) = weekday(b) {
        return form_at(rest, hint, false);
    }
    month_first(b, hint)
}

/// A weekday name (`Tue `, `Tue, `): what follows it.
fn weekday(b: &[u8]) -> Option<&[u8]> {
    if !matches!(
        b.get(..3)?,
        b"Mon" | b"Tue" | b"Wed" | b"Thu" | b"Fri" | b"Sat" | b"Sun"
    ) {
        return None;
    }
    let rest = &b[3..];
    let rest = rest.strip_prefix(b",").unwrap_or(rest);
    let rest = rest.strip_prefix(b" ")?;
    rest.first()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        .then_some(rest)
}

/// `n` ASCII digits at `b[at..]` as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let d = b.get(at..at + n)?;
    d.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// One or two digits at `b[at..]` (a day or a 12-hour clock's hour):
/// the number and the position after it.
fn one_or_two(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let first = digits(b, at, 1)?;
    match digits(b, at + 1, 1) {
        Some(second) => Some((first * 10 + second, at + 2)),
        None => Some((first, at + 1)),
    }
}

/// Midnight of a date, in nanoseconds, when the date exists.
fn day_of(year: i64, month: u32, day: u32) -> Option<i128> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(i128::from(days_from_civil(year, month, day)) * 86_400 * NANOS)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` (with `sep` between the parts): its midnight and length.
fn date(b: &[u8], sep: u8) -> Option<(i128, usize)> {
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&sep) || b.get(7) != Some(&sep) {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    Some((day_of(i64::from(year), month, day)?, 10))
}

/// `HH:MM[:SS][(.|,)fraction]` at `b[at..]`: nanoseconds into the day and
/// the position after it.
fn clock(b: &[u8], at: usize, seconds_required: bool) -> Option<(i128, usize)> {
    let hour = digits(b, at, 2)?;
    clock_after_hour(b, hour, at + 2, seconds_required)
}

/// The rest of a clock after its hour: `:MM[:SS][(.|,)fraction]` at `b[i..]`.
fn clock_after_hour(
    b: &[u8],
    hour: u32,
    mut i: usize,
    seconds_required: bool,
) -> Option<(i128, usize)> {
    if b.get(i) != Some(&b':') {
        return None;
    }
    let minute = digits(b, i + 1, 2)?;
    i += 3;
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
    let mut nanos = 0;
    if matches!(b.get(i), Some(b'.' | b',')) {
        (nanos, i) = fraction(b, i + 1, NANOS as u64);
    }
    let secs = i128::from(hour * 3600 + minute * 60 + second);
    Some((secs * NANOS + i128::from(nanos), i))
}

/// The digits after a decimal point at `b[i..]`, as nanoseconds of a unit
/// of `unit` nanoseconds (digits beyond a nanosecond are read and dropped),
/// and the position after them; (0, i - 1) when no digit follows (the point
/// is then not part of the time). In u64: this runs per line, and i128
/// division is slow.
fn fraction(b: &[u8], mut i: usize, unit: u64) -> (u64, usize) {
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return (0, i - 1);
    }
    let (mut nanos, mut scale) = (0, unit / 10);
    while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
        nanos += u64::from(c - b'0') * scale;
        scale /= 10;
        i += 1;
    }
    (nanos, i)
}

/// Zone abbreviations and their offsets east of UTC in seconds: RFC 822's
/// and the ones logs of Europe, the Americas, Asia and Australia write.
/// Ambiguous names take RFC 822's meaning (`CST` is US Central) or are left
/// out (`IST`).
fn zone_offset(name: &[u8]) -> Option<i64> {
    Some(match name {
        b"UTC" | b"GMT" | b"UT" | b"Z" | b"WET" => 0,
        b"WEST" | b"BST" | b"CET" | b"MET" => 3600,
        b"CEST" | b"MEST" | b"EET" => 7200,
        b"EEST" | b"MSK" => 10_800,
        b"EST" | b"CDT" => -5 * 3600,
        b"EDT" => -4 * 3600,
        b"CST" | b"MDT" => -6 * 3600,
        b"MST" | b"PDT" => -7 * 3600,
        b"PST" | b"AKDT" => -8 * 3600,
        b"AKST" => -9 * 3600,
        b"HST" => -10 * 3600,
        b"JST" | b"KST" => 9 * 3600,
        b"HKT" => 8 * 3600,
        b"AEST" => 10 * 3600,
        b"AEDT" => 11 * 3600,
        b"NZST" => 12 * 3600,
        _ => return None,
    })
}

/// A numeric offset `+01:00`, `+0100` or `+01` at `b[i..]`: seconds east of
/// UTC and the position after it.
fn numeric_offset(b: &[u8], i: usize, hour_alone: bool) -> Option<(i64, usize)> {
    let sign = match b.get(i) {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let h = digits(b, i + 1, 2)?;
    let (m, end) = if b.get(i + 3) == Some(&b':') {
        (digits(b, i + 4, 2)?, i + 6)
    } else if let Some(m) = digits(b, i + 3, 2) {
        (m, i + 5)
    } else if hour_alone {
        (0, i + 3)
    } else {
        return None;
    };
    if h > 23 || m > 59 || b.get(end).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((sign * i64::from(h * 3600 + m * 60), end))
}

/// The zone after a clock ending at `b[i..]`: `Z`, `+01:00`, `+0100`, `+01`
/// attached; or after one space `+0100`, `+01:00` or a name `zone_offset` knows.
/// Returns the offset (None when no zone is written) and the position after.
fn zone(b: &[u8], i: usize) -> (Option<i64>, usize) {
    let not_letter = |at: usize| !b.get(at).is_some_and(u8::is_ascii_alphabetic);
    match b.get(i) {
        Some(b'Z' | b'z') if not_letter(i + 1) => return (Some(0), i + 1),
        Some(b'+' | b'-') => {
            if let Some((o, end)) = numeric_offset(b, i, true) {
                return (Some(o), end);
            }
        }
        Some(b' ') => {
            if let Some((o, end)) = numeric_offset(b, i + 1, false) {
                return (Some(o), end);
            }
            let n = b[i + 1..]
                .iter()
                .take(5)
                .take_while(|c| c.is_ascii_uppercase())
                .count();
            if n >= 2
                && not_letter(i + 1 + n)
                && let Some(o) = zone_offset(&b[i + 1..i + 1 + n])
            {
                return (Some(o), i + 1 + n);
            }
        }
        _ => {}
    }
    (None, i)
}

/// RFC 3339 / ISO 8601: `YYYY-MM-DD` (or `YYYY/MM/DD`, nginx's error log
/// and Go's log), `T` or one or two spaces, a clock, and a zone. Returns the
/// stamp and the bytes it took.
fn iso(b: &[u8]) -> Option<(Stamp, usize)> {
    let sep = *b.get(4)?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    let (day, mut i) = date(b, sep)?;
    match b.get(i) {
        Some(b'T' | b't') => i += 1,
        Some(b' ') if b.get(i + 1) == Some(&b' ') => i += 2,
        Some(b' ') => i += 1,
        _ => return None,
    }
    let (time, after) = clock(b, i, false)?;
    let (offset, end) = zone(b, after);
    Some((
        Stamp {
            wall: day + time,
            offset,
        },
        end,
    ))
}

fn month_of(b: &[u8], at: usize) -> Option<u32> {
    Some(match b.get(at..at + 3)? {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// A day, a month name and a year, then a clock and a zone: `01/Dec/2026:
/// 14:02:03 +0000` and `01/Dec/2026 14:02:03` (common log format, Django,
/// Flask), `01-Dec-2026 14:02:03.123` (PHP, BIND), `01 Dec 2026
/// 14:02:03.123` (Redis, RFC 2822).
fn day_month_year(b: &[u8]) -> Option<Stamp> {
    let (day, i) = one_or_two(b, 0)?;
    let sep = *b.get(i)?;
    if !matches!(sep, b'/' | b'-' | b' ') || b.get(i + 4) != Some(&sep) {
        return None;
    }
    let month = month_of(b, i + 1)?;
    let year = digits(b, i + 5, 4)?;
    let at = i + 9;
    match (sep, b.get(at)) {
        (b'/', Some(b':' | b' ')) | (_, Some(b' ')) => {}
        _ => return None,
    }
    let (time, after) = clock(b, at + 1, true)?;
    let (offset, _) = zone(b, after);
    Some(Stamp {
        wall: day_of(i64::from(year), month, day)? + time,
        offset,
    })
}

/// MySQL's and MariaDB's `yymmdd hh:mm:ss`, the hour padded with a space
/// (`261201  4:02:03`).
fn mysql(b: &[u8]) -> Option<Stamp> {
    let year = digits(b, 0, 2)?;
    let month = digits(b, 2, 2)?;
    let day = digits(b, 4, 2)?;
    if b.get(6) != Some(&b' ') {
        return None;
    }
    let hour = match b.get(7) {
        Some(b' ') => digits(b, 8, 1)?,
        _ => digits(b, 7, 2)?,
    };
    let (time, _) = clock_after_hour(b, hour, 9, true)?;
    Some(Stamp {
        wall: day_of(2000 + i64::from(year), month, day)? + time,
        offset: None,
    })
}

/// A time alone, `14:02:03[.123]` (logback's default): the date of the
/// file's modification time, or the day before for a later time of day.
fn time_alone(b: &[u8], hint: &YearHint) -> Option<Stamp> {
    let (time, end) = clock(b, 0, true)?;
    if b.get(end).is_some_and(|c| c.is_ascii_digit() || *c == b':') {
        return None;
    }
    let mut days = hint.days;
    if time > i128::from(hint.second) * NANOS {
        days -= 1;
    }
    Some(Stamp {
        wall: i128::from(days) * 86_400 * NANOS + time,
        offset: None,
    })
}

/// Forms that start with a month name: syslog `Dec  1 14:02:03`, ctime's
/// rest `Dec  1 14:02:03[.ffffff] [ZONE ]2026` (after its weekday), and
/// java.util.logging's `Dec 01, 2026 2:02:03 PM`.
fn month_first(b: &[u8], hint: &YearHint) -> Option<Stamp> {
    let month = month_of(b, 0)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let at = if b.get(4) == Some(&b' ') { 5 } else { 4 };
    let (day, i) = one_or_two(b, at)?;
    if b.get(i) == Some(&b',') {
        return java(b, month, day, i + 1);
    }
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let (time, after) = clock(b, i + 1, true)?;
    let (offset, after) = zone(b, after);
    // ctime: the year after the clock (and its zone).
    let year = match (b.get(after), digits(b, after + 1, 4)) {
        (Some(b' '), Some(y)) if !b.get(after + 5).is_some_and(u8::is_ascii_digit) => i64::from(y),
        _ => hint.year_for(month),
    };
    Some(Stamp {
        wall: day_of(year, month, day)? + time,
        offset,
    })
}

/// The rest of `Dec 01, 2026 2:02:03 PM` after its comma, at `b[i..]`.
fn java(b: &[u8], month: u32, day: u32, i: usize) -> Option<Stamp> {
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let year = digits(b, i + 1, 4)?;
    if b.get(i + 5) != Some(&b' ') {
        return None;
    }
    let (hour, at) = one_or_two(b, i + 6)?;
    let (time, mut after) = clock_after_hour(b, hour % 12, at, true)?;
    if !(1..=12).contains(&hour) {
        return None;
    }
    // A space, or since Java 20 a narrow no-break space (U+202F), before
    // AM/PM.
    if b.get(after) == Some(&b' ') {
        after += 1;
    } else if b.get(after..after + 3) == Some("\u{202f}".as_bytes()) {
        after += 3;
    } else {
        return None;
    }
    let pm = match b.get(after..after + 2) {
        Some(b"AM") => 0,
        Some(b"PM") => 12 * 3600 * NANOS,
        _ => return None,
    };
    Some(Stamp {
        wall: day_of(i64::from(year), month, day)? + time + pm,
        offset: None,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
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

    const HINT: YearHint = YearHint::at(2026, 12, 20, 12 * 3600);

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
            YearHint::at(2026, 11, 18, 1_795_000_000 % 86_400)
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
                line_time(line.as_bytes(), &HINT),
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
            "2026-02-30 14:02:03 no such day",
            "12026-12-01 14:02:03 inside a number",
            "Traceback (most recent call last):",
        ] {
            assert_eq!(line_time(line.as_bytes(), &HINT), None, "{line}");
        }
    }

    #[test]
    fn syslog_lines_take_the_year_from_the_file() {
        let january = YearHint::at(2027, 1, 2, 0);
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
            let got = line_time(line.as_bytes(), &hint).map(|s| s.wall);
            assert_eq!(got, want, "{line}");
        }
    }

    #[test]
    fn common_log_format_anywhere_in_the_head() {
        let at = wall(2026, 12, 1, 14, 2, 3);
        let line = b"203.0.113.9 - frank [01/Dec/2026:14:02:03 +0100] \"GET / HTTP/1.1\" 200 2326";
        assert_eq!(
            line_time(line, &HINT),
            Some(Stamp {
                wall: at,
                offset: Some(3600)
            })
        );
        let late = format!("{} [01/Dec/2026:14:02:03 +0000]", "x".repeat(BRACKET_HEAD));
        assert_eq!(line_time(late.as_bytes(), &HINT), None);
        assert_eq!(
            line_time(b"x [01/Dec/2026:14:02:03 +0000", &HINT).map(|s| s.wall),
            Some(at)
        );
        assert_eq!(
            line_time(b"x [a] [01/Dec/2026:14:02:03]", &HINT).map(|s| s.wall),
            Some(at)
        );
    }

    /// Each form as its program writes it, with the exact instant (or wall
    /// clock and zone) expected. HINT: the file was modified 2026-12-20
    /// 12:00:00 UTC.
    #[test]
    fn every_form() {
        let at = wall(2026, 12, 1, 14, 2, 3);
        let ms = |n: i128| n * 1_000_000;
        let us = |n: i128| n * 1_000;
        let h = 3600;
        let cases: &[(&str, i128, Option<i64>)] = &[
            // RFC 3339 / ISO 8601, after a prefix, with zones
            ("INFO 2026-12-01 14:02:03 after a level", at, None),
            (
                "I, [2026-12-01T14:02:03.123456 #12]  INFO -- : ruby",
                at + us(123_456),
                None,
            ),
            (
                "[2026-12-01 14:02:03 +0100] [12] [INFO] gunicorn",
                at,
                Some(h),
            ),
            ("[2026-12-01 14:02:03 -0500] [12] [INFO]", at, Some(-5 * h)),
            (
                "2026-12-01 14:02:03.123 UTC [12] LOG:  postgres",
                at + ms(123),
                Some(0),
            ),
            (
                "2026-12-01 14:02:03.123 CET [12] LOG:  postgres",
                at + ms(123),
                Some(h),
            ),
            ("2026-12-01 14:02:03 CEST x", at, Some(2 * h)),
            ("2026-12-01 14:02:03 PST x", at, Some(-8 * h)),
            ("2026-12-01 14:02:03 EDT x", at, Some(-4 * h)),
            ("2026-12-01 14:02:03 GMT x", at, Some(0)),
            ("2026-12-01 14:02:03 CETX not a zone", at, None),
            (
                "Tue 2026-12-01 14:02:03 CET host sshd[1]: journalctl short-full",
                at,
                Some(h),
            ),
            ("Start-Date: 2026-12-01  14:02:03", at, None),
            (
                "2026-12-01T14:02:03.123456789+01:00 stdout F cri",
                at + 123_456_789,
                Some(h),
            ),
            (
                "2026-12-01T14:02:03+0100 host journalctl short-iso",
                at,
                Some(h),
            ),
            (
                "[2026-12-01T14:02:03,123][INFO ][o.e.n.Node] elasticsearch",
                at + ms(123),
                None,
            ),
            ("[2026-12-01T14:02:03Z INFO  app] env_logger", at, Some(0)),
            ("2026-12-01 14:02:03 0 [Note] mariadb error log", at, None),
            ("2026/12/01 14:02:03.123456 go log", at + us(123_456), None),
            ("2026/12/01 14:02:03 kid1| squid cache.log", at, None),
            (
                "<34>1 2026-12-01T14:02:03.003Z host app - - - rfc5424",
                at + ms(3),
                Some(0),
            ),
            // colour codes (tracing, structlog's console)
            (
                "\u{1b}[2m2026-12-01T14:02:03.123456Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m app: x",
                at + us(123_456),
                Some(0),
            ),
            (
                "\u{1b}[2m2026-12-01 14:02:03\u{1b}[0m [\u{1b}[32m\u{1b}[1minfo     \u{1b}[0m] ev",
                at,
                None,
            ),
            // syslog, ctime
            ("Dec  1 14:02:03 host sshd[1]: x", at, None),
            (
                "Tue Dec  1 14:02:03 2026 [pid 12] CONNECT: vsftpd",
                at,
                None,
            ),
            (
                "[Tue Dec 01 14:02:03.123456 2026] [core:error] [pid 1] apache",
                at + us(123_456),
                None,
            ),
            ("Tue Dec  1 14:02:03 CET 2026 date(1)", at, Some(h)),
            (
                "[pid: 1|app: 0|req: 1/1] 127.0.0.1 () {34 vars in 456 bytes} [Tue Dec  1 14:02:03 2026] GET / => uwsgi",
                at,
                None,
            ),
            ("Tue, 01 Dec 2026 14:02:03 GMT rfc 2822", at, Some(0)),
            // common log format and its relatives
            (
                "127.0.0.1 - - [01/Dec/2026:14:02:03 +0000] \"GET / HTTP/1.1\" 200 5",
                at,
                Some(0),
            ),
            (
                "127.0.0.1 - - [01/Dec/2026 14:02:03] \"GET / HTTP/1.1\" 200 - flask",
                at,
                None,
            ),
            (
                "[01/Dec/2026 14:02:03] \"GET / HTTP/1.1\" 200 10 django",
                at,
                None,
            ),
            (
                "[01-Dec-2026 14:02:03] NOTICE: fpm is running, pid 1",
                at,
                None,
            ),
            ("[01-Dec-2026 14:02:03 UTC] PHP Warning:  x", at, Some(0)),
            (
                "01-Dec-2026 14:02:03.123 general: notice: running bind",
                at + ms(123),
                None,
            ),
            (
                "12345:M 01 Dec 2026 14:02:03.123 * Ready to accept connections",
                at + ms(123),
                None,
            ),
            // MySQL, Java, klog
            ("261201 14:02:03\t     5 Connect\troot@localhost", at, None),
            (
                "261201  4:02:03\t     5 Query\tselect 1",
                at - 10 * 3600 * NANOS,
                None,
            ),
            ("# Time: 261201 14:02:03", at, None),
            ("Dec 01, 2026 2:02:03 PM com.example.Main main", at, None),
            (
                "Dec 1, 2026 2:02:03\u{202f}PM com.example.Main main",
                at,
                None,
            ),
            ("Dec 01, 2026 12:02:03 AM x", at - 14 * 3600 * NANOS, None),
            ("Dec 01, 2026 12:02:03 PM x", at - 2 * 3600 * NANOS, None),
            (
                "I1201 14:02:03.123456   12345 main.go:10] klog",
                at + us(123_456),
                None,
            ),
            (
                "E1201 14:02:03.123456   12345 main.go:10] klog",
                at + us(123_456),
                None,
            ),
            // epoch seconds at the start
            (
                "1796133723.123    456 127.0.0.1 TCP_MISS/200 squid",
                at + ms(123),
                Some(0),
            ),
            ("1796133723: mosquitto version 2.0.18 starting", at, Some(0)),
            (
                "1796133723.123456 host prog[1]: short-unix",
                at + us(123_456),
                Some(0),
            ),
            // a time alone: the file's date (2026-12-20, modified at 12:00)
            (
                "11:02:03.123 [main] INFO  logback",
                wall(2026, 12, 20, 11, 2, 3) + ms(123),
                None,
            ),
            (
                "[13:02:03] [Server thread/INFO]: later than the file: the day before",
                wall(2026, 12, 19, 13, 2, 3),
                None,
            ),
            // logfmt
            (
                "time=\"2026-12-01T14:02:03+01:00\" level=info msg=logrus",
                at,
                Some(h),
            ),
            (
                "time=2026-12-01T14:02:03.123+01:00 level=INFO msg=slog",
                at + ms(123),
                Some(h),
            ),
            (
                "level=info ts=2026-12-01T14:02:03.123Z caller=main.go:1 go-kit",
                at + ms(123),
                Some(0),
            ),
            (
                "level=info ts=1796133723.5 caller=main.go:1",
                at + ms(500),
                Some(0),
            ),
            // JSON
            (
                "{\"level\":30,\"time\":1796133723123,\"pid\":1,\"msg\":\"pino\"}",
                at + ms(123),
                Some(0),
            ),
            (
                "{\"level\":\"info\",\"ts\":1796133723.1234567,\"msg\":\"zap\"}",
                at + 123_456_700,
                Some(0),
            ),
            (
                "{\"event\": \"x\", \"timestamp\": \"2026-12-01T14:02:03.123456Z\"}",
                at + us(123_456),
                Some(0),
            ),
            (
                "{\"log\":\"2020-01-01 00:00:00 inner\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-01T14:02:03.123456789Z\"}",
                at + 123_456_789,
                Some(0),
            ),
            (
                "{\"@timestamp\":\"2026-12-01T14:02:03.123Z\", \"log.level\": \"INFO\"}",
                at + ms(123),
                Some(0),
            ),
            (
                "{\"type\": \"server\", \"timestamp\": \"2026-12-01T14:02:03,123+01:00\"}",
                at + ms(123),
                Some(h),
            ),
            (
                "{\"t\":{\"$date\":\"2026-12-01T14:02:03.123+00:00\"},\"s\":\"I\",\"c\":\"NETWORK\"}",
                at + ms(123),
                Some(0),
            ),
            (
                "{\"__CURSOR\":\"s=1\",\"__REALTIME_TIMESTAMP\":\"1796133723123456\",\"MESSAGE\":\"x\"}",
                at + us(123_456),
                Some(0),
            ),
            ("{\"ns\":1796133723123456789}", at + 123_456_789, None),
            ("{\"date\":1796133723123456789}", at + 123_456_789, Some(0)),
            (
                "{\"datetime\":\"2026-12-01 14:02:03,123\",\"msg\":\"python-json-logger\"}",
                at + ms(123),
                None,
            ),
            (
                "{\"text\":\"x\\n\",\"record\":{\"elapsed\":{\"repr\":\"0:00:00.01\",\"seconds\":0.01},\"time\":{\"repr\":\"2026-12-01 14:02:03.123456+01:00\",\"timestamp\":1796130123.123456}}}",
                at + us(123_456),
                Some(h),
            ),
            // preference: `time` over `ts` wherever it is; a key that holds no time is passed over
            (
                "{\"ts\":1,\"t\":\"2026-12-01T14:02:03Z\",\"time\":\"soon\"}",
                at,
                Some(0),
            ),
            (
                "{\"ts\":1796133723,\"time\":\"2026-12-01T15:02:03Z\"}",
                at + 3600 * NANOS,
                Some(0),
            ),
            (
                "{\"msg\":\"\\\"time\\\": 5\",\"ts\":1796133723}",
                at,
                Some(0),
            ),
        ];
        // Every prefix of every line, and each line with bytes changed at
        // random: an answer or None, never a panic (the parsers index
        // ahead of where they are).
        let mut rng = crate::test_rng::Rng(7);
        let alphabet = b" :-+./,[]{}\"0123456789ZTAMPJD\x1b";
        for &(line, _, _) in cases {
            let b = line.as_bytes();
            for n in 0..=b.len() {
                let _ = line_time(&b[..n], &HINT);
            }
            for _ in 0..200 {
                let mut m = b.to_vec();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(m.len());
                    m[at] = alphabet[rng.below(alphabet.len())];
                }
                let _ = line_time(&m, &HINT);
            }
        }
        for &(line, w, off) in cases {
            // `{"ns":…}` is not a key of the list: the epoch is read as
            // nothing and no other form is there.
            let want = if line.starts_with("{\"ns\"") {
                None
            } else {
                Some(Stamp {
                    wall: w,
                    offset: off,
                })
            };
            assert_eq!(line_time(line.as_bytes(), &HINT), want, "{line}");
        }
        for line in [
            "{\"time\":0.25,\"msg\":\"a duration, not a time\"}",
            "{\"time\":\"soon\"}",
            "1234567: a count at the start",
            "17961337231 eleven digits",
            "1796133723 no fraction, no colon",
            "fe80::12:34:56 an address",
            "took 12:00:00 hours in the middle",
            "2026-13-01 14:02:03 bad month",
            "Dex  1 14:02:03 host",
            "I1301 14:02:03.1 bad month",
            "Dec 01, 2026 13:02:03 PM bad hour",
            "999999 14:02:03 bad date",
            &format!(
                "{}2026-12-01 14:02:03 past the first 64 bytes",
                "x".repeat(FORM_HEAD)
            ),
        ] {
            assert_eq!(line_time(line.as_bytes(), &HINT), None, "{line}");
        }
        // JSON keys are looked for in the first 4 KiB only.
        let pad = "y".repeat(STAMP_HEAD);
        let late = format!("{{\"msg\":\"{pad}\",\"time\":\"2026-12-01T14:02:03Z\"}}");
        assert_eq!(line_time(late.as_bytes(), &HINT), None);
        let early = format!(
            "{{\"msg\":\"{}\",\"time\":\"2026-12-01T14:02:03Z\"}}",
            &pad[..3000]
        );
        assert_eq!(line_time(early.as_bytes(), &HINT).map(|s| s.wall), Some(at));
    }

    #[test]
    fn year_less_forms_across_new_year() {
        let january = YearHint::at(2027, 1, 2, 3600);
        for (line, want) in [
            (
                "I1231 23:59:59.000001 1 x.go:1] klog",
                wall(2026, 12, 31, 23, 59, 59) + 1_000,
            ),
            (
                "I0101 00:00:01.000000 1 x.go:1] klog",
                wall(2027, 1, 1, 0, 0, 1),
            ),
            (
                "00:30:00.000 [main] INFO before the file's time",
                wall(2027, 1, 2, 0, 30, 0),
            ),
            (
                "23:30:00.000 [main] INFO after it: the day before",
                wall(2027, 1, 1, 23, 30, 0),
            ),
        ] {
            assert_eq!(
                line_time(line.as_bytes(), &january).map(|s| s.wall),
                Some(want),
                "{line}"
            );
        }
    }

    #[test]
    fn zones_make_instants() {
        // The same instant written in four zones.
        let t = parse_target("2026-12-01T13:02:03Z", UNIX_EPOCH).unwrap();
        for line in [
            "[2026-12-01 14:02:03 +0100] [1] [INFO] x",
            "2026-12-01 14:02:03.000 CET [1] LOG:  x",
            "2026-12-01 08:02:03 EST x",
            "{\"time\":1796130123}",
        ] {
            let s = line_time(line.as_bytes(), &HINT).unwrap();
            assert_eq!(s.instant(), wall(2026, 12, 1, 13, 2, 3), "{line}");
            assert!(t.reached_by(&s), "{line}");
        }
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
        let line = |s: &str| line_time(s.as_bytes(), &HINT).unwrap();
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
