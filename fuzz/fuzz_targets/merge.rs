//! The merged view's parameters and order on arbitrary input. The input is
//! a query string, a 0xFF byte, then three files built byte by byte (a
//! stamped line, a continuation line or an unterminated line each).
//! Invariants:
//!
//! - `query::parse` of `/?QUERY` never panics; a merged view it accepts has
//!   2 to `MAX_MERGED_FILES` files, every comma list exactly one value per
//!   file, `meta` on, no `before=` with `tail=1` or `from=`, and `from=`
//!   only with `inode=`;
//! - `merge::merge_all` gives every line of every file exactly once, each
//!   file's lines in file order;
//! - `merge::last_lines(n)` gives each file a line start within its bytes,
//!   the parts hold min(n, all lines) lines together, and, where every file's
//!   times never go back, they are exactly the end of `merge_all`'s order.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wstail::encode::filter::Filter;
use wstail::history::merge::{self, Tail};
use wstail::history::timestamp::YearHint;
use wstail::limits::MAX_MERGED_FILES;
use wstail::wire::query;

const HINT: YearHint = YearHint::at(2026, 12, 31, 0);

fn check_query(raw: &[u8]) {
    let q = String::from_utf8_lossy(raw);
    let Ok(q) = query::parse(&format!("/?{q}")) else {
        return;
    };
    let Some(m) = &q.merge else {
        return;
    };
    let n = m.paths.len();
    assert!((2..=MAX_MERGED_FILES).contains(&n), "{n} files");
    for len in [
        m.before.as_ref().map(Vec::len),
        m.inode.as_ref().map(Vec::len),
        m.from.as_ref().map(Vec::len),
        m.tag.as_ref().map(Vec::len),
        m.born.as_ref().map(Vec::len),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(len, n);
    }
    assert!(q.meta);
    let since = matches!(q.start, query::Start::Since(_));
    if m.before.is_some() {
        assert!(!q.follow && m.from.is_none() && !since);
    }
    if m.from.is_some() {
        assert!(m.inode.is_some() && !since);
    }
}

/// A file from bytes: each byte a line.
fn build(bytes: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    for &b in bytes {
        match b >> 6 {
            0 | 1 => f.extend_from_slice(
                format!("2026-12-01T10:{:02}:{:02}Z line\n", (b >> 3) & 7, b & 7).as_bytes(),
            ),
            2 => f.extend_from_slice(b"  continuation\n"),
            _ => f.extend_from_slice(b"partial "),
        }
    }
    f
}

fn lines(f: &[u8]) -> usize {
    f.split_inclusive(|&b| b == b'\n').count()
}

fuzz_target!(|data: &[u8]| {
    let (q, rest) = match data.iter().position(|&b| b == 0xFF) {
        Some(p) => (&data[..p], &data[p + 1..]),
        None => (data, &[][..]),
    };
    check_query(q);
    let parts: Vec<&[u8]> = rest.splitn(3, |&b| b == 0xFE).collect();
    let files: Vec<Vec<u8>> = parts.iter().map(|p| build(&p[..p.len().min(200)])).collect();
    let slices: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let all = merge::merge_all(&slices, HINT);
    // Every line once, each file in order.
    let mut at = vec![0usize; files.len()];
    for &(f, s, e) in &all {
        assert_eq!(s, at[f]);
        at[f] = e;
    }
    for (f, file) in files.iter().enumerate() {
        assert_eq!(at[f], file.len());
    }
    let monotonic = files.iter().all(|f| {
        let mut last = i128::MIN;
        f.split_inclusive(|&b| b == b'\n').all(|l| match merge::line_time(l, HINT) {
            Some(t) if t < last => false,
            Some(t) => {
                last = t;
                true
            }
            None => true,
        })
    });
    let tails: Vec<Tail<Vec<u8>>> = files
        .iter()
        .map(|f| Tail {
            file: f,
            end: f.len() as u64,
            hint: HINT,
        })
        .collect();
    let total = all.len();
    let none = Filter::default();
    for n in [0, 1, 3, total / 2, total, total + 5] {
        let (starts, limited) = merge::last_lines(&tails, n, &none, u64::MAX).expect("in memory");
        assert!(!limited);
        let mut count = 0;
        for (f, &s) in files.iter().zip(&starts) {
            let s = s as usize;
            assert!(s <= f.len());
            assert!(s == 0 || s == f.len() || f[s - 1] == b'\n', "not a line start");
            count += lines(&f[s..]);
        }
        assert_eq!(count, n.min(total));
        if monotonic {
            let mut want: Vec<u64> = files.iter().map(|f| f.len() as u64).collect();
            for &(f, s, _) in all[total - n.min(total)..].iter().rev() {
                want[f] = s as u64;
            }
            assert_eq!(starts, want);
        }
    }
});
