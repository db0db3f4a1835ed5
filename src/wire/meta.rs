//! The meta frames of the WebSocket protocol (`meta=1`): binary frames that
//! each hold one JSON object beside the text frames that carry the log —
//! a resume point (`{"offset":N,"inode":I,"tag":"…"}`, with an optional
//! `previous` generation and `limit`), an event (`{"event":"rotated"}`), or
//! the progress of a scan (`{"progress":{"scanned":B,"total":T}}`). One
//! type, its writer (the server) and its parser (the client, the tests), so
//! that the format is spelled once. The parser reads any JSON object and
//! ignores keys it does not know, so a newer server's additions do not
//! break an older client.

use std::fmt::{self, Write as _};

use crate::wire::names::{Compression, Event};
use crate::wire::tag::Tag;

/// One meta frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    /// Where the text stands: sent when sending starts, after each text
    /// message and after each event.
    Position(Position),
    /// Something happened to the file (`rotated`, `truncated`, `deleted`,
    /// `recreated`, `binary`, …); `bytes` says how much was skipped, where
    /// that is known.
    /// For a `skipped` gzip generation that does not inflate, `path`
    /// names it and `reason` says `corrupt gzip`.
    Event {
        event: Event,
        bytes: Option<u64>,
        path: Option<String>,
        reason: Option<String>,
    },
    /// How far a scan has come, in file bytes.
    Progress { scanned: u64, total: u64 },
    /// A CPU-heavy request waiting for its turn (`--max-scans`) before a
    /// scan of at most `total` bytes: written as a progress frame with
    /// `"scanned":0` and `"waiting":true`, so that a client that knows only
    /// progress frames shows it as a scan at its start.
    Waiting { total: u64 },
}

/// A resume point: the file offset just past what was sent, the inode of
/// the file it is in, and the tag of the bytes before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub inode: u64,
    pub tag: Option<Tag>,
    /// A start frame at offset 0: the newest older generation, if any.
    pub previous: Option<Previous>,
    /// A scan stopped at the scan limit before it found what was asked.
    pub limit: bool,
    /// The birth time of the file with `inode`, where the file system
    /// records it (start frames and the frames after an event carry it; a
    /// client keeps it for the offsets that follow).
    pub born: Option<Born>,
}

/// A birth time: seconds and nanoseconds since the Unix epoch, written
/// `"SECS.NNNNNNNNN"` (a string: a JSON number would lose nanoseconds in a
/// browser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Born {
    pub secs: u64,
    pub nanos: u32,
}

impl Born {
    /// The birth time in a file's metadata, where it is recorded.
    pub fn of(meta: &std::fs::Metadata) -> Option<Born> {
        Born::at(meta.created().ok()?)
    }

    /// A birth time given as a time (`None` before the epoch).
    pub fn at(t: std::time::SystemTime) -> Option<Born> {
        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(Born {
            secs: d.as_secs(),
            nanos: d.subsec_nanos(),
        })
    }

    /// Parses `SECS.NNNNNNNNN` (nine digits after the point).
    pub fn parse(s: &str) -> Option<Born> {
        let (secs, nanos) = s.split_once('.')?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(secs) || nanos.len() != 9 || !digits(nanos) {
            return None;
        }
        Some(Born {
            secs: secs.parse().ok()?,
            nanos: nanos.parse().ok()?,
        })
    }
}

impl fmt::Display for Born {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs, self.nanos)
    }
}

/// The newest older generation of a log, named by a start frame at 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Previous {
    /// A file that can be opened with `inode=`: plain, or gzip
    /// (`compressed` then says so, and `size` counts its uncompressed
    /// bytes). `born`: its birth time where recorded, so that a client
    /// names it by more than its reusable inode number.
    File {
        path: String,
        inode: u64,
        born: Option<Born>,
        size: u64,
        compressed: Option<Compression>,
    },
    /// A compressed file: the chain of generations ends here.
    Compressed {
        path: String,
        compression: Compression,
    },
}

impl Position {
    /// A plain resume point.
    pub fn new(offset: u64, inode: u64, tag: Tag) -> Position {
        Position {
            offset,
            inode,
            tag: Some(tag),
            previous: None,
            limit: false,
            born: None,
        }
    }
}

impl Meta {
    /// A plain resume point.
    pub fn position(offset: u64, inode: u64, tag: Tag) -> Meta {
        Meta::Position(Position::new(offset, inode, tag))
    }

    /// An event without a byte count.
    pub fn event(event: Event) -> Meta {
        Meta::Event {
            event,
            bytes: None,
            path: None,
            reason: None,
        }
    }

    /// The frame's JSON text.
    pub(crate) fn to_json(&self) -> String {
        self.to_string()
    }

    /// Parses a frame's payload; `None` when it is not a meta frame this
    /// version knows (an unknown object is not an error: it is ignored).
    pub fn parse(payload: &[u8]) -> Option<Meta> {
        let text = std::str::from_utf8(payload).ok()?;
        let mut p = Parser {
            s: text.as_bytes(),
            at: 0,
        };
        let Value::Object(fields) = p.value(0)? else {
            return None;
        };
        p.ws();
        if p.at != p.s.len() {
            return None;
        }
        let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        if let Some(Value::Number(offset)) = get("offset") {
            let Some(Value::Number(inode)) = get("inode") else {
                return None;
            };
            let tag = match get("tag") {
                Some(Value::String(t)) => Some(Tag::parse(t)?),
                _ => None,
            };
            let previous = match get("previous") {
                Some(Value::Object(prev)) => Previous::from_fields(prev),
                _ => None,
            };
            return Some(Meta::Position(Position {
                offset: *offset,
                inode: *inode,
                tag,
                previous,
                limit: matches!(get("limit"), Some(Value::Bool(true))),
                born: match get("born") {
                    Some(Value::String(b)) => Born::parse(b),
                    _ => None,
                },
            }));
        }
        if let Some(Value::String(name)) = get("event") {
            let bytes = match get("bytes") {
                Some(Value::Number(n)) => Some(*n),
                _ => None,
            };
            // An event this version does not know is ignored, like any
            // object it does not know.
            let text = |k: &str| match get(k) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            return Some(Meta::Event {
                event: Event::parse(name)?,
                bytes,
                path: text("path"),
                reason: text("reason"),
            });
        }
        if let Some(Value::Object(p)) = get("progress") {
            let num = |k: &str| {
                p.iter().find_map(|(key, v)| match v {
                    Value::Number(n) if key == k => Some(*n),
                    _ => None,
                })
            };
            let waiting = p
                .iter()
                .any(|(key, v)| key == "waiting" && matches!(v, Value::Bool(true)));
            if waiting {
                return Some(Meta::Waiting {
                    total: num("total")?,
                });
            }
            return Some(Meta::Progress {
                scanned: num("scanned")?,
                total: num("total")?,
            });
        }
        None
    }
}

impl Previous {
    fn from_fields(fields: &[(String, Value)]) -> Option<Previous> {
        let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let Some(Value::String(path)) = get("path") else {
            return None;
        };
        let compressed = match get("compressed") {
            Some(Value::String(c)) => Some(Compression::parse(c)?),
            _ => None,
        };
        if let Some(compression) = compressed
            && get("inode").is_none()
        {
            return Some(Previous::Compressed {
                path: path.clone(),
                compression,
            });
        }
        match (get("inode"), get("size")) {
            (Some(Value::Number(inode)), Some(Value::Number(size))) => Some(Previous::File {
                path: path.clone(),
                inode: *inode,
                born: match get("born") {
                    Some(Value::String(b)) => Born::parse(b),
                    _ => None,
                },
                size: *size,
                compressed,
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Meta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Meta::Position(p) => {
                write!(f, "{{\"offset\":{},\"inode\":{}", p.offset, p.inode)?;
                if let Some(tag) = p.tag {
                    write!(f, ",\"tag\":\"{tag}\"")?;
                }
                match &p.previous {
                    Some(Previous::File {
                        path,
                        inode,
                        born,
                        size,
                        compressed,
                    }) => {
                        f.write_str(",\"previous\":{\"path\":")?;
                        write_string(f, path)?;
                        write!(f, ",\"inode\":{inode}")?;
                        if let Some(born) = born {
                            write!(f, ",\"born\":\"{born}\"")?;
                        }
                        write!(f, ",\"size\":{size}")?;
                        if let Some(c) = compressed {
                            write!(f, ",\"compressed\":\"{c}\"")?;
                        }
                        f.write_char('}')?;
                    }
                    Some(Previous::Compressed { path, compression }) => {
                        f.write_str(",\"previous\":{\"path\":")?;
                        write_string(f, path)?;
                        write!(f, ",\"compressed\":\"{compression}\"}}")?;
                    }
                    None => {}
                }
                if p.limit {
                    f.write_str(",\"limit\":true")?;
                }
                if let Some(born) = p.born {
                    write!(f, ",\"born\":\"{born}\"")?;
                }
                f.write_char('}')
            }
            Meta::Event {
                event,
                bytes,
                path,
                reason,
            } => {
                write!(f, "{{\"event\":\"{event}\"")?;
                if let Some(n) = bytes {
                    write!(f, ",\"bytes\":{n}")?;
                }
                if let Some(p) = path {
                    f.write_str(",\"path\":")?;
                    write_string(f, p)?;
                }
                if let Some(r) = reason {
                    f.write_str(",\"reason\":")?;
                    write_string(f, r)?;
                }
                f.write_char('}')
            }
            Meta::Progress { scanned, total } => write!(
                f,
                "{{\"progress\":{{\"scanned\":{scanned},\"total\":{total}}}}}"
            ),
            Meta::Waiting { total } => write!(
                f,
                "{{\"progress\":{{\"scanned\":0,\"total\":{total},\"waiting\":true}}}}"
            ),
        }
    }
}

/// A JSON string (quotes included): quotes, backslashes and control
/// characters escaped, and U+2028/2029, which some JavaScript parsers
/// mishandle. The one JSON string writer of the crate (`?list` uses it too).
pub(crate) fn write_string(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                write!(out, "\\u{:04x}", c as u32)?
            }
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// A JSON value, as far as meta frames use them (numbers are unsigned
/// integers; arrays are parsed and dropped).
enum Value {
    Object(Vec<(String, Value)>),
    String(String),
    Number(u64),
    Bool(bool),
    Other,
}

/// How deep objects may nest: meta frames use two levels.
const MAX_DEPTH: usize = 8;

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.at) == Some(&b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.s.get(self.at)? {
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                if self.eat(b'}') {
                    return Some(Value::Object(fields));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    fields.push((key, v));
                    if self.eat(b'}') {
                        return Some(Value::Object(fields));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'[' => {
                self.at += 1;
                if self.eat(b']') {
                    return Some(Value::Other);
                }
                loop {
                    self.value(depth + 1)?;
                    if self.eat(b']') {
                        return Some(Value::Other);
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'"' => self.string().map(Value::String),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Other),
            b'0'..=b'9' | b'-' => {
                let start = self.at;
                while self
                    .s
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
                {
                    self.at += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.at]).ok()?;
                Some(text.parse().map_or(Value::Other, Value::Number))
            }
            _ => None,
        }
    }

    fn word(&mut self, w: &str, v: Value) -> Option<Value> {
        if self.s[self.at..].starts_with(w.as_bytes()) {
            self.at += w.len();
            Some(v)
        } else {
            None
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.s.get(self.at) != Some(&b'"') {
            return None;
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while !matches!(self.s.get(self.at), Some(b'"' | b'\\') | None) {
                self.at += 1;
            }
            // The input is a str and we stop only at ASCII bytes.
            out.push_str(std::str::from_utf8(&self.s[start..self.at]).ok()?);
            match *self.s.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                _ => {
                    self.at += 1;
                    let c = match *self.s.get(self.at)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.at + 1..].starts_with(b"\\u") {
                                    return None;
                                }
                                self.at += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                            } else {
                                char::from_u32(hi)?
                            }
                        }
                        _ => return None,
                    };
                    self.at += 1;
                    out.push(c);
                }
            }
        }
    }

    /// The four hex digits after `\u` (the parser stands on the `u`); leaves
    /// the parser on the last digit.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.at + 1..self.at + 5)?;
        let text = std::str::from_utf8(digits).ok()?;
        let v = u32::from_str_radix(text, 16).ok()?;
        self.at += 4;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(m: Meta, json: &str) {
        assert_eq!(m.to_json(), json);
        assert_eq!(Meta::parse(json.as_bytes()), Some(m), "{json}");
    }

    #[test]
    fn every_frame_round_trips() {
        let tag = Tag::of(b"line 1\n");
        round_trip(
            Meta::position(12, 34, tag),
            &format!("{{\"offset\":12,\"inode\":34,\"tag\":\"{tag}\"}}"),
        );
        round_trip(
            Meta::Position(Position {
                previous: Some(Previous::File {
                    path: "/var/log/app.log.1".into(),
                    inode: 7,
                    born: None,
                    size: 99,
                    compressed: None,
                }),
                ..Position::new(0, 8, Tag::of(b""))
            }),
            "{\"offset\":0,\"inode\":8,\"tag\":\"cbf29ce484222325\",\"previous\":{\"path\":\"/var/log/app.log.1\",\"inode\":7,\"size\":99}}",
        );
        round_trip(
            Meta::Position(Position {
                previous: Some(Previous::File {
                    path: "/var/log/app.log.2.gz".into(),
                    inode: 9,
                    born: None,
                    size: 12345,
                    compressed: Some(Compression::Gzip),
                }),
                ..Position::new(0, 8, Tag::of(b""))
            }),
            "{\"offset\":0,\"inode\":8,\"tag\":\"cbf29ce484222325\",\"previous\":{\"path\":\"/var/log/app.log.2.gz\",\"inode\":9,\"size\":12345,\"compressed\":\"gzip\"}}",
        );
        round_trip(
            Meta::Position(Position {
                previous: Some(Previous::File {
                    path: "/var/log/app.log.1".into(),
                    inode: 7,
                    born: Born::parse("1764547200.000000005"),
                    size: 99,
                    compressed: None,
                }),
                ..Position::new(0, 8, Tag::of(b""))
            }),
            "{\"offset\":0,\"inode\":8,\"tag\":\"cbf29ce484222325\",\"previous\":{\"path\":\"/var/log/app.log.1\",\"inode\":7,\"born\":\"1764547200.000000005\",\"size\":99}}",
        );
        round_trip(
            Meta::Position(Position {
                previous: Some(Previous::Compressed {
                    path: "/l/a \"q\"\\\n\u{1}é.gz".into(),
                    compression: Compression::Xz,
                }),
                limit: true,
                ..Position::new(0, 8, Tag::of(b""))
            }),
            "{\"offset\":0,\"inode\":8,\"tag\":\"cbf29ce484222325\",\"previous\":{\"path\":\"/l/a \\\"q\\\"\\\\\\n\\u0001é.gz\",\"compressed\":\"xz\"},\"limit\":true}",
        );
        round_trip(
            Meta::Position(Position {
                born: Some(Born {
                    secs: 1_764_547_200,
                    nanos: 5,
                }),
                ..Position::new(3, 4, Tag::of(b"abc"))
            }),
            &format!(
                "{{\"offset\":3,\"inode\":4,\"tag\":\"{}\",\"born\":\"1764547200.000000005\"}}",
                Tag::of(b"abc")
            ),
        );
        round_trip(Meta::event(Event::Rotated), "{\"event\":\"rotated\"}");
        round_trip(
            Meta::Event {
                event: Event::Skipped,
                bytes: Some(4096),
                path: None,
                reason: None,
            },
            "{\"event\":\"skipped\",\"bytes\":4096}",
        );
        round_trip(
            Meta::Event {
                event: Event::Skipped,
                bytes: None,
                path: Some("/l/a.log.2.gz".into()),
                reason: Some("corrupt gzip".into()),
            },
            "{\"event\":\"skipped\",\"path\":\"/l/a.log.2.gz\",\"reason\":\"corrupt gzip\"}",
        );
        round_trip(
            Meta::Progress {
                scanned: 5,
                total: 10,
            },
            "{\"progress\":{\"scanned\":5,\"total\":10}}",
        );
        round_trip(
            Meta::Waiting { total: 10 },
            "{\"progress\":{\"scanned\":0,\"total\":10,\"waiting\":true}}",
        );
    }

    #[test]
    fn parser_is_lenient_with_spacing_order_and_new_keys() {
        let m = Meta::parse(br#" { "inode" : 3, "new":[1,{"a":null}], "offset": 5 } "#);
        assert_eq!(
            m,
            Some(Meta::Position(Position {
                offset: 5,
                inode: 3,
                tag: None,
                previous: None,
                limit: false,
                born: None,
            }))
        );
        // \u escapes, surrogate pairs included, in any string.
        assert_eq!(
            Meta::parse(br#"{"event":"rot\u0061ted"}"#),
            Some(Meta::event(Event::Rotated))
        );
        assert_eq!(
            Meta::parse(
                br#"{"offset":0,"inode":1,"previous":{"path":"caf\u00e9 \ud83d\ude00","inode":2,"size":3}}"#
            ),
            Some(Meta::Position(Position {
                offset: 0,
                inode: 1,
                tag: None,
                previous: Some(Previous::File {
                    path: "café 😀".into(),
                    inode: 2,
                    born: None,
                    size: 3,
                    compressed: None,
                }),
                limit: false,
                born: None,
            }))
        );
        // An event this version does not know is ignored.
        assert_eq!(Meta::parse(br#"{"event":"caf\u00e9 \ud83d\ude00"}"#), None);
    }

    #[test]
    fn birth_times_have_nine_digits_of_nanoseconds() {
        assert_eq!(
            Born::parse("12.000000034"),
            Some(Born {
                secs: 12,
                nanos: 34
            })
        );
        for bad in [
            "12",
            "12.34",
            ".000000001",
            "12.0000000001",
            "1a.000000001",
            "-1.000000000",
        ] {
            assert_eq!(Born::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn parser_refuses_what_is_not_a_meta_frame() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"offset\":1}",
            b"{\"offset\":-1,\"inode\":2}",
            b"{\"offset\":1,\"inode\":2,\"tag\":\"xyz\"}",
            b"{\"offset\":1,\"inode\":2} x",
            b"{\"event\":\"a\\q\"}",
            b"{\"event\":\"\\ud800\"}",
            b"{\"other\":1}",
            b"[1]",
            b"\xff",
            b"{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}",
        ] {
            assert_eq!(Meta::parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
