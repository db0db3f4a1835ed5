//! The request target → what the client asked for: the percent-decoded file
//! path (decoded exactly once) and the query parameters of DESIGN.md. A value
//! that cannot be understood is a 400, never silently ignored; unknown
//! parameters are ignored so that older servers accept newer pages.

use std::borrow::Cow;
use std::time::SystemTime;

use crate::limits::{MAX_FILTER_TEXT, MAX_FILTER_TEXTS, MAX_MERGED_FILES};
use crate::wire::refusal::Refusal;

use crate::history::timestamp::{self, Target};
use crate::wire::meta::Born;
use crate::wire::tag::Tag;

/// How text is encoded in the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Text,
}

/// Where sending starts: the four start points a request may name, which
/// exclude one another. Parsed once here; `history::start` decides what
/// each means for the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// The last `lines` lines (`None`: `--lines`), at the end of the file
    /// or ending at or before `before=N`.
    Last {
        lines: Option<usize>,
        before: Option<u64>,
    },
    /// `since=T`: the first line stamped at or after T.
    Since(Target),
    /// `from=N&inode=I[&tag=T][&born=B]`: a resume point.
    Resume {
        from: u64,
        inode: u64,
        tag: Option<Tag>,
        born: Option<Born>,
    },
}

/// `inode=I` without `from=`, with what tells a reused inode number from
/// the file the client saw: its birth time (`born=`) and, with `before=N`,
/// the tag of the bytes before N (`tag=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub inode: u64,
    pub born: Option<Born>,
    pub tag: Option<Tag>,
}

/// Everything a request's target says.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The file path, percent-decoded once (may hold any bytes but NUL is
    /// refused later by the path rule).
    pub path: Vec<u8>,
    pub follow: bool,
    /// `None` when the request names no `lines=`.
    pub lines: Option<usize>,
    pub format: Format,
    pub matches: Vec<String>,
    pub(crate) excludes: Vec<String>,
    pub meta: bool,
    /// Where sending starts: exactly one of the four start points.
    pub start: Start,
    /// `inode=I` without `from=` (with `before=`, `since=` or alone): which
    /// file of the path's chain is read.
    pub pick: Option<Pick>,
    pub token: Option<String>,
    /// `?list` and `?download` (HTTP routes).
    pub list: bool,
    pub download: bool,
    /// `?timeline` (HTTP route): `buckets=N` (`None`: the default) and
    /// `until=T` (`None`: now); its `since=` is in `start`.
    pub timeline: bool,
    pub buckets: Option<u64>,
    pub until: Option<Target>,
    /// `?asset=NAME`: one of the viewer page's files (HTTP route).
    pub asset: Option<String>,
    /// `merge=/A&merge=/B…`: several files as one timeline, with the
    /// per-file values of its comma lists.
    pub merge: Option<Merge>,
}

/// A merged view's files and their per-file values (`before=`, `inode=`,
/// `from=`, `tag=`, `born=` as comma lists, one value per file in list
/// order); each list is absent or exactly as long as the file list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merge {
    /// The files, percent-decoded once, in list order.
    pub paths: Vec<Vec<u8>>,
    pub before: Option<Vec<u64>>,
    pub inode: Option<Vec<u64>>,
    pub from: Option<Vec<u64>>,
    pub tag: Option<Vec<Tag>>,
    pub born: Option<Vec<Born>>,
}

/// Splits and decodes a request target. Errors are 400s.
pub fn parse(target: &str) -> Result<Query, Refusal> {
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let raw_path = raw_path.split_once('#').map_or(raw_path, |(p, _)| p);
    let path: Vec<u8> = percent_decode(raw_path.as_bytes())?;
    let mut q = Query {
        path,
        follow: false,
        lines: None,
        format: Format::Html,
        matches: Vec::new(),
        excludes: Vec::new(),
        meta: false,
        start: Start::Last {
            lines: None,
            before: None,
        },
        pick: None,
        token: None,
        list: false,
        download: false,
        timeline: false,
        buckets: None,
        until: None,
        asset: None,
        merge: None,
    };
    if form_pairs(raw_query).any(|(k, _)| k == "merge") {
        return parse_merge(&q.path, raw_query);
    }
    let (mut from, mut inode, mut tag, mut born) = (None, None, None, None);
    let (mut lines, mut before, mut since) = (None, None, None);
    for (key, value) in form_pairs(raw_query) {
        match &*key {
            "tail" => q.follow = flag("tail", &value)?,
            "lines" => lines = Some(number("lines", &value)? as usize),
            "format" => {
                q.format = match &*value {
                    "html" => Format::Html,
                    "text" => Format::Text,
                    _ => {
                        return Err(Refusal::bad_request(format!(
                            "format={value} is not 'html' or 'text'"
                        )));
                    }
                }
            }
            "match" => q.matches.push(value.into_owned()),
            "exclude" => q.excludes.push(value.into_owned()),
            "meta" => q.meta = flag("meta", &value)?,
            "from" => from = Some(number("from", &value)?),
            "inode" => inode = Some(number("inode", &value)?),
            "tag" => {
                tag = Some(Tag::parse(&value).ok_or_else(|| {
                    Refusal::bad_request(format!("tag={value} is not 16 hex digits"))
                })?);
            }
            "born" => {
                born = Some(Born::parse(&value).ok_or_else(|| {
                    Refusal::bad_request(format!("born={value} is not SECS.NNNNNNNNN"))
                })?);
            }
            "before" => before = Some(number("before", &value)?),
            "token" => q.token = Some(value.into_owned()),
            "since" => {
                let t = timestamp::parse_target(&value, SystemTime::now());
                since = Some(t.map_err(|e| Refusal::bad_request(format!("since={e}")))?);
            }
            "list" => q.list = flag("list", &value)?,
            "download" => q.download = flag("download", &value)?,
            "timeline" => q.timeline = flag("timeline", &value)?,
            "buckets" => q.buckets = Some(number("buckets", &value)?),
            "until" => {
                let t = timestamp::parse_target(&value, SystemTime::now());
                q.until = Some(t.map_err(|e| Refusal::bad_request(format!("until={e}")))?);
            }
            "asset" => q.asset = Some(value.into_owned()),
            _ => {}
        }
    }
    if before.is_some() {
        if q.follow {
            return Err(Refusal::bad_request(
                "before= sends one window and closes: it cannot go with tail=1",
            ));
        }
        if from.is_some() {
            return Err(Refusal::bad_request("before= and from= cannot go together"));
        }
        if since.is_some() {
            return Err(Refusal::bad_request(
                "before= and since= cannot go together: before= ends a window, since= starts one",
            ));
        }
    }
    q.start = match (from, inode, since) {
        // A resume point says where to start: a client reconnecting with
        // the URL it first used (since= in it) and from= resumes.
        (Some(from), Some(inode), _) => Start::Resume {
            from,
            inode,
            tag,
            born,
        },
        (Some(_), None, _) => {
            return Err(Refusal::bad_request(
                "from= needs inode= (the file the offset is in)",
            ));
        }
        (None, _, Some(t)) => Start::Since(t),
        (None, _, None) => Start::Last { lines, before },
    };
    if from.is_none() {
        q.pick = inode.map(|inode| Pick { inode, born, tag });
    }
    q.lines = lines;
    check_filters(&q)?;
    Ok(q)
}

/// A merged view's query (`merge=` given at least once): the parameters of
/// one file, except that `before=`, `inode=`, `from=`, `tag=` and `born=`
/// are comma lists with one value per file, in list order. A list that does
/// not fit the rules (fewer than 2 or more than `MAX_MERGED_FILES` files, a
/// comma list of another length, a path in the URL besides `/`) is a 400.
/// The other parameters are parsed as one file's (`parse` of them alone),
/// so they mean what they mean there; `since=` is in `start`.
fn parse_merge(path: &[u8], raw_query: &str) -> Result<Query, Refusal> {
    if path != b"/" {
        return Err(Refusal::bad_request(
            "merge= is asked at / (ws://HOST/?merge=/A&merge=/B), not at a file's path",
        ));
    }
    let mut m = Merge::default();
    let mut rest = Vec::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = form_decode(raw_value);
        match &*form_decode(raw_key) {
            "merge" => {
                if m.paths.len() == MAX_MERGED_FILES {
                    return Err(Refusal::bad_request(format!(
                        "a merged view takes at most {MAX_MERGED_FILES} merge= files"
                    )));
                }
                // The path as bytes (a file name need not be UTF-8),
                // decoded once, `+` a space as in any form value.
                let spaced: Vec<u8> = raw_value
                    .bytes()
                    .map(|b| if b == b'+' { b' ' } else { b })
                    .collect();
                m.paths.push(decode(&spaced));
            }
            "before" => m.before = Some(list("before", &value, |v| v.parse().ok())?),
            "inode" => m.inode = Some(list("inode", &value, |v| v.parse().ok())?),
            "from" => m.from = Some(list("from", &value, |v| v.parse().ok())?),
            "tag" => m.tag = Some(list("tag", &value, Tag::parse)?),
            "born" => m.born = Some(list("born", &value, Born::parse)?),
            // Every other parameter means what it means for one file.
            _ => rest.push(pair),
        }
    }
    let mut q = parse(&format!("/?{}", rest.join("&")))?;
    if m.paths.len() < 2 {
        return Err(Refusal::bad_request(
            "a merged view needs at least 2 merge= files (open one file at its own path)",
        ));
    }
    let n = m.paths.len();
    let lengths = [
        ("before", m.before.as_ref().map(Vec::len)),
        ("inode", m.inode.as_ref().map(Vec::len)),
        ("from", m.from.as_ref().map(Vec::len)),
        ("tag", m.tag.as_ref().map(Vec::len)),
        ("born", m.born.as_ref().map(Vec::len)),
    ];
    for (name, len) in lengths {
        if let Some(len) = len.filter(|&l| l != n) {
            return Err(Refusal::bad_request(format!(
                "{name}= holds {len} values for {n} merge= files: one value per file, comma-separated in list order"
            )));
        }
    }
    if m.from.is_some() && m.inode.is_none() {
        return Err(Refusal::bad_request(
            "from= needs inode= (the file each offset is in)",
        ));
    }
    let since = matches!(q.start, Start::Since(_));
    if m.before.is_some() {
        if q.follow {
            return Err(Refusal::bad_request(
                "before= sends one window and closes: it cannot go with tail=1",
            ));
        }
        if m.from.is_some() {
            return Err(Refusal::bad_request("before= and from= cannot go together"));
        }
        if since {
            return Err(Refusal::bad_request(
                "before= and since= cannot go together: before= ends a window, since= starts one",
            ));
        }
    }
    if m.from.is_some() && since {
        // A resume point says where to start (each file's own): a client
        // reconnecting with the URL it first used resumes.
        q.start = Start::Last {
            lines: q.lines,
            before: None,
        };
    }
    // A merged view always speaks meta=1: the source frames say whose
    // lines each message holds.
    q.meta = true;
    q.merge = Some(m);
    Ok(q)
}

/// One comma list of a merged view: one value per file.
fn list<T>(name: &str, value: &str, one: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, Refusal> {
    value
        .split(',')
        .map(|v| {
            one(v).ok_or_else(|| {
                let shown: String = v.chars().take(64).flat_map(char::escape_debug).collect();
                Refusal::bad_request(format!(
                    "{name}= holds '{shown}', which is not a value of {name}="
                ))
            })
        })
        .collect()
}

/// True when a request target asks for a merged view (`merge=` in its
/// query): the WebSocket route hands it to `serve::merged`.
pub(crate) fn is_merge(target: &str) -> bool {
    target
        .split_once('?')
        .is_some_and(|(_, q)| form_pairs(q).any(|(k, _)| k == "merge"))
}

impl Query {
    /// `before=N`, when the request names it.
    pub fn before(&self) -> Option<u64> {
        match self.start {
            Start::Last { before, .. } => before,
            _ => None,
        }
    }
}

/// The bounds on filter texts.
fn check_filters(q: &Query) -> Result<(), Refusal> {
    for (name, texts) in [("match", &q.matches), ("exclude", &q.excludes)] {
        if texts.len() > MAX_FILTER_TEXTS {
            return Err(Refusal::bad_request(format!(
                "at most {MAX_FILTER_TEXTS} {name}= texts are allowed, this request has {}",
                texts.len()
            )));
        }
        if texts.iter().any(|t| t.len() > MAX_FILTER_TEXT) {
            return Err(Refusal::bad_request(format!(
                "a {name}= text is over {MAX_FILTER_TEXT} bytes"
            )));
        }
    }
    Ok(())
}

/// `1`/`true`/`yes`/empty (a bare `?list`) or `0`/`false`/`no`.
fn flag(name: &str, value: &str) -> Result<bool, Refusal> {
    match value {
        "" | "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Refusal::bad_request(format!(
            "{name}={value} is not 1 or 0"
        ))),
    }
}

fn number(name: &str, value: &str) -> Result<u64, Refusal> {
    value
        .parse::<u64>()
        .map_err(|_| Refusal::bad_request(format!("{name}={value} is not a whole number")))
}

/// Percent-decodes once; `%` not followed by two hex digits is a 400.
pub(crate) fn percent_decode(raw: &[u8]) -> Result<Vec<u8>, Refusal> {
    let stray = (0..raw.len()).any(|i| raw[i] == b'%' && hex_byte(raw, i + 1).is_none());
    if stray {
        return Err(Refusal::bad_request(
            "the path holds a '%' that is not followed by two hex digits",
        ));
    }
    Ok(decode(raw))
}

/// Percent-decodes once; a `%` not followed by two hex digits stays as it
/// is (the way browsers read a query).
pub fn decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match hex_byte(raw, i + 1) {
            Some(b) if raw[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    out
}

/// The byte written as two hex digits at `raw[at..at + 2]`.
fn hex_byte(raw: &[u8], at: usize) -> Option<u8> {
    let hex = |i: usize| raw.get(i).and_then(|&b| (b as char).to_digit(16));
    Some((hex(at)? * 16 + hex(at + 1)?) as u8)
}

/// The `key=value` pairs of a query string, decoded the way HTML forms
/// encode them (and `url::form_urlencoded` decodes them): empty pairs
/// skipped, `+` a space, `%XX` a byte, invalid UTF-8 replaced by U+FFFD.
pub fn form_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(key), form_decode(value))
    })
}

/// One key or value of a query string (see `form_pairs`).
pub(crate) fn form_decode(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['+', '%']) {
        return Cow::Borrowed(raw);
    }
    let spaced: Vec<u8> = raw
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    Cow::Owned(String::from_utf8_lossy(&decode(&spaced)).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_path_once() {
        assert_eq!(parse("/var/log/a%20b").unwrap().path, b"/var/log/a b");
        assert_eq!(parse("/x/%252e%252e/y").unwrap().path, b"/x/%2e%2e/y");
        assert_eq!(parse("/x/%2e%2e/y").unwrap().path, b"/x/../y");
        assert_eq!(parse("/x%2fy").unwrap().path, b"/x/y");
        assert_eq!(parse("/x%00y").unwrap().path, b"/x\0y");
        assert_eq!(parse("/x%ff").unwrap().path, b"/x\xff");
        assert!(parse("/x%2").is_err());
        assert!(parse("/x%zz").is_err());
    }

    #[test]
    fn decodes_queries_like_forms() {
        let pairs: Vec<(String, String)> = form_pairs("a=1&&b=x+y%20z&c&%74oken=%zz%4&d=%ff&=e")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let want = [
            ("a", "1"),
            ("b", "x y z"),
            ("c", ""),
            ("token", "%zz%4"),
            ("d", "\u{fffd}"),
            ("", "e"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, want);
        assert_eq!(decode(b"%41%2%zz%"), b"A%2%zz%");
    }

    #[test]
    fn reads_the_parameters() {
        let q = parse("/f?tail=1&lines=5&format=text&match=a&match=b+c&exclude=%26&meta=1&from=10&inode=7&token=t").unwrap();
        assert!(q.follow && q.meta);
        assert_eq!(q.format, Format::Text);
        assert_eq!(q.matches, vec!["a", "b c"]);
        assert_eq!(q.excludes, vec!["&"]);
        assert_eq!(
            q.start,
            Start::Resume {
                from: 10,
                inode: 7,
                tag: None,
                born: None
            }
        );
        assert_eq!(q.token.as_deref(), Some("t"));
        let d = parse("/f").unwrap();
        assert!(!d.follow && d.lines.is_none() && d.format == Format::Html && !d.list);
        assert!(parse("/?list").unwrap().list);
        assert!(parse("/f?download").unwrap().download);
        assert!(parse("/f?unknown=1").is_ok());
        assert_eq!(parse("/f?inode=7").unwrap().pick.map(|p| p.inode), Some(7));
        assert!(matches!(
            parse("/f?since=-15m&from=1&inode=2").unwrap().start,
            Start::Resume {
                from: 1,
                inode: 2,
                ..
            }
        ));
        assert_eq!(parse("/f?inode=7&from=1").unwrap().pick, None);
        assert!(matches!(
            parse("/f?since=2026-12-01T14:02:00Z").unwrap().start,
            Start::Since(Target::Instant(_))
        ));
        assert!(matches!(
            parse("/f?since=2026-12-01+14:02").unwrap().start,
            Start::Since(Target::Wall(_))
        ));
        assert_eq!(
            parse("/f?lines=5").unwrap().start,
            Start::Last {
                lines: Some(5),
                before: None
            }
        );
    }

    #[test]
    fn before_and_inode() {
        let q = parse("/f?before=100&inode=7&lines=5&born=1.000000002").unwrap();
        assert_eq!(q.before(), Some(100));
        let pick = q.pick.unwrap();
        assert_eq!(pick.inode, 7);
        assert_eq!(pick.born, Born::parse("1.000000002"));
        let q = parse("/f?before=0").unwrap();
        assert_eq!((q.before(), q.pick), (Some(0), None));
    }

    #[test]
    fn filter_texts_are_bounded() {
        let many = |name: &str, n: usize| {
            let mut t = "/f?x=1".to_string();
            for i in 0..n {
                t.push_str(&format!("&{name}=t{i}"));
            }
            t
        };
        for name in ["match", "exclude"] {
            assert!(parse(&many(name, MAX_FILTER_TEXTS)).is_ok());
            let e = parse(&many(name, MAX_FILTER_TEXTS + 1)).unwrap_err();
            let e = e.reason();
            assert!(e.contains(name) && e.contains("16"), "{e}");
            let long = "a".repeat(MAX_FILTER_TEXT);
            assert!(parse(&format!("/f?{name}={long}")).is_ok());
            assert!(parse(&format!("/f?{name}={long}a")).is_err());
            // Bytes, not characters: 129 two-byte characters are too long.
            assert!(parse(&format!("/f?{name}={}", "%C3%A9".repeat(129))).is_err());
        }
    }

    #[test]
    fn a_merged_view_takes_one_value_per_file() {
        let q = parse("/?merge=/a.log&merge=%2Fb%20c.log&merge=/d%FF+e&lines=5&before=10,20,30&inode=1,2,3&tag=0123456789abcdef,0123456789abcdef,0123456789abcdef").unwrap();
        let m = q.merge.as_ref().unwrap();
        assert_eq!(
            m.paths,
            vec![
                b"/a.log".to_vec(),
                b"/b c.log".to_vec(),
                b"/d\xff e".to_vec()
            ]
        );
        assert_eq!(m.before, Some(vec![10, 20, 30]));
        assert_eq!(m.inode, Some(vec![1, 2, 3]));
        assert!(q.meta && q.lines == Some(5));
        let q = parse("/?merge=/a&merge=/b&from=5,6&inode=7,8&since=-1h").unwrap();
        let m = q.merge.unwrap();
        assert_eq!((m.from, m.inode), (Some(vec![5, 6]), Some(vec![7, 8])));
        assert!(is_merge("/?tail=1&merge=/a"));
        assert!(!is_merge("/a?merged=1"));
        let sixteen = "&merge=/a".repeat(MAX_MERGED_FILES);
        assert!(parse(&format!("/?x{sixteen}")).is_ok());
        for t in [
            "/?merge=/a",
            &format!("/?x{sixteen}&merge=/a"),
            "/f?merge=/a&merge=/b",
            "/?merge=/a&merge=/b&before=1",
            "/?merge=/a&merge=/b&before=1,2,3",
            "/?merge=/a&merge=/b&before=1,x",
            "/?merge=/a&merge=/b&before=1,2&tail=1",
            "/?merge=/a&merge=/b&before=1,2&since=-1h",
            "/?merge=/a&merge=/b&from=1,2",
            "/?merge=/a&merge=/b&from=1,2&inode=1,2&before=1,2",
            "/?merge=/a&merge=/b&tag=1,2",
            "/?merge=/a&merge=/b&born=1,2",
            "/?merge=/a&merge=/b&lines=x",
        ] {
            assert_eq!(parse(t).map_err(|e| e.status()), Err(400), "{t}");
        }
    }

    #[test]
    fn refuses_bad_values() {
        for t in [
            "/f?lines=x",
            "/f?lines=-1",
            "/f?tail=2",
            "/f?format=xml",
            "/f?from=1",
            "/f?from=a&inode=1",
            "/f?since=yesterday",
            "/f?before=x",
            "/f?before=10&tail=1",
            "/f?before=10&from=1&inode=1",
            "/f?before=10&since=-1h",
        ] {
            assert!(parse(t).is_err(), "{t}");
        }
    }
}
