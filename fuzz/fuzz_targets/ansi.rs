//! The ANSI-to-HTML converter (`format=html`) on arbitrary text, converted
//! whole and cut into arbitrary pieces. Invariants:
//!
//! - never panics;
//! - every call's output is a balanced fragment whose only markup is
//!   `<span style="…">` (style text from a small fixed alphabet, never
//!   nested) and `</span>`; every other `<`, `>`, `"`, `'` and `&` of the
//!   input reaches the output escaped as one of the five entities;
//! - no control character other than tab and newline reaches the output;
//! - the output with its tags stripped and its entities decoded equals the
//!   input without its escape sequences, as computed by [`visible`], an
//!   independent reference written from the documented grammar (src/encode/ansi.rs's
//!   module docs and DESIGN.md);
//! - the input cut at arbitrary char boundaries (cuts derived from the fuzz
//!   input) gives, piece by piece, the same characters in the same styles as
//!   the whole (the markup may differ: spans close at each message end).
//!
//! Layout of the fuzz input: byte 0 = number of cuts (bits 0–2) and how many
//! times the text is repeated (1 + bits 3–5, so that sequences longer than
//! `MAX_ESCAPE_SEQUENCE` are reached within `-max_len=4096`), then two bytes
//! per cut (a position, modulo the text's length, moved back to a char
//! boundary), then the text (lossy UTF-8).
#![no_main]
use libfuzzer_sys::fuzz_target;
use wstail::encode::ansi::AnsiHtml;
use wstail::limits::MAX_ESCAPE_SEQUENCE;

/// Where the reference stripper is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum St {
    Ground,
    /// After ESC (possibly several).
    Esc,
    /// `ESC` then intermediate bytes (0x20–0x2f).
    EscInter,
    /// `ESC [` or U+009B, then parameter/intermediate bytes (0x20–0x3f).
    Csi,
    /// An OSC, DCS, SOS, PM or APC string (`ESC ]`, `P`, `X`, `^`, `_`).
    Str,
    /// ESC inside such a string.
    StrEsc,
}

/// The visible text of `input`: what a terminal would print, less escape
/// sequences and control characters, by the grammar the converter documents:
///
/// - ground: ESC starts a sequence; U+009B starts a CSI; tab and newline are
///   kept; every other C0 control, DEL and C1 control (U+0080–U+009F) is
///   dropped; everything else is kept;
/// - `ESC` + 0x30–0x7e ends a two-byte sequence; `ESC` + 0x20–0x2f starts
///   intermediates ended by 0x30–0x7e; `ESC [` a CSI; `ESC ] P X ^ _` a
///   string; `ESC ESC` restarts;
/// - a CSI takes 0x20–0x3f and ends at 0x40–0x7e;
/// - a string ends at BEL or `ESC \`; ESC + anything else cancels it and
///   starts a new sequence with that byte; newline, CAN and SUB cancel it;
/// - any character a sequence cannot take ends it unfinished and is
///   processed again as ground text (so a newline is kept, a non-ASCII
///   character is kept, a new ESC starts a new sequence);
/// - a sequence that has reached `MAX_ESCAPE_SEQUENCE` bytes is abandoned
///   before the next character, which is processed as ground text. The
///   count includes the introducer, and a sequence that starts right where
///   an unfinished one was cut short continues that one's count.
fn visible(input: &str) -> String {
    let mut out = String::new();
    let mut st = St::Ground;
    // Bytes of the current sequence (and of the unfinished ones it continues).
    let mut len = 0usize;
    // In ground, right after a sequence was cut short by a character it
    // could not take: that sequence's length.
    let mut carried: Option<usize> = None;
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        let w = c.len_utf8();
        if st == St::Ground {
            chars.next();
            let carry = carried.take().unwrap_or(0);
            match c {
                '\x1b' => {
                    st = St::Esc;
                    len = carry + 1;
                }
                '\u{9b}' => {
                    st = St::Csi;
                    len = carry + 2;
                }
                '\n' | '\t' => out.push(c),
                '\0'..='\x1f' | '\x7f'..='\u{9f}' => {}
                _ => out.push(c),
            }
            continue;
        }
        if len >= MAX_ESCAPE_SEQUENCE {
            // Overlong: give up; the character is ground text.
            st = St::Ground;
            carried = None;
            continue;
        }
        let b = u32::from(c);
        // `None`: the sequence cannot take `c`; it ends and `c` is
        // processed again in the ground state.
        let next = match st {
            St::Ground => unreachable!(),
            St::Esc => match b {
                0x5b => Some(St::Csi),
                0x5d | 0x50 | 0x58 | 0x5e | 0x5f => Some(St::Str),
                0x1b => Some(St::Esc),
                0x20..=0x2f => Some(St::EscInter),
                0x30..=0x7e => Some(St::Ground),
                _ => None,
            },
            St::EscInter => match b {
                0x20..=0x2f => Some(St::EscInter),
                0x30..=0x7e => Some(St::Ground),
                _ => None,
            },
            St::Csi => match b {
                0x20..=0x3f => Some(St::Csi),
                0x40..=0x7e => Some(St::Ground),
                _ => None,
            },
            St::Str => match b {
                0x07 => Some(St::Ground),
                0x1b => Some(St::StrEsc),
                0x0a | 0x18 | 0x1a => None,
                _ => Some(St::Str),
            },
            St::StrEsc => {
                if c == '\\' {
                    Some(St::Ground)
                } else {
                    // The ESC starts a new sequence that continues with `c`:
                    // reprocess `c` after that ESC (whose byte is already
                    // counted).
                    st = St::Esc;
                    continue;
                }
            }
        };
        match next {
            Some(s) => {
                chars.next();
                len += w;
                st = s;
                if s == St::Ground {
                    carried = None;
                }
            }
            None => {
                st = St::Ground;
                carried = Some(len);
            }
        }
    }
    out
}

/// One call's output parsed back into (style, char) pairs, checking its
/// well-formedness on the way.
fn parse(out: &str) -> Vec<(String, char)> {
    let mut res = Vec::new();
    let mut style: Option<String> = None;
    let mut rest = out;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("<span style=\"") {
            assert!(style.is_none(), "nested span in {out:?}");
            let end = r
                .find("\">")
                .unwrap_or_else(|| panic!("unterminated tag in {out:?}"));
            let s = &r[..end];
            assert!(
                !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b":#;(),.- ".contains(&b)),
                "style {s:?} in {out:?}"
            );
            style = Some(s.to_string());
            rest = &r[end + 2..];
            assert!(!rest.starts_with("</span>"), "empty span in {out:?}");
        } else if let Some(r) = rest.strip_prefix("</span>") {
            assert!(style.take().is_some(), "</span> without <span> in {out:?}");
            rest = r;
        } else if c == '&' {
            let (e, ch) = [
                ("&amp;", '&'),
                ("&lt;", '<'),
                ("&gt;", '>'),
                ("&quot;", '"'),
                ("&#39;", '\''),
            ]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e))
            .unwrap_or_else(|| panic!("bad entity in {out:?}"));
            res.push((style.clone().unwrap_or_default(), ch));
            rest = &rest[e.len()..];
        } else {
            assert!(!matches!(c, '<' | '>' | '"' | '\''), "raw {c:?} in {out:?}");
            assert!(
                c == '\n' || c == '\t' || !c.is_control(),
                "control {c:?} in {out:?}"
            );
            res.push((style.clone().unwrap_or_default(), c));
            rest = &rest[c.len_utf8()..];
        }
    }
    assert!(style.is_none(), "unclosed span in {out:?}");
    res
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let ncuts = usize::from(head & 7);
    let reps = 1 + usize::from(head >> 3 & 7);
    if rest.len() < 2 * ncuts {
        return;
    }
    let (cut_bytes, text) = rest.split_at(2 * ncuts);
    let text = String::from_utf8_lossy(text).repeat(reps);

    // Whole.
    let mut whole = String::new();
    AnsiHtml::new().convert(&text, &mut whole);
    let styled = parse(&whole);
    let decoded: String = styled.iter().map(|(_, c)| c).collect();
    assert_eq!(decoded, visible(&text), "input {text:?}");

    // In pieces, one converter carrying its state from piece to piece.
    let mut cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|p| {
            let mut at = usize::from(u16::from_le_bytes([p[0], p[1]])) % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        })
        .collect();
    cuts.sort_unstable();
    cuts.push(text.len());
    let mut conv = AnsiHtml::new();
    let mut split_styled = Vec::new();
    let mut prev = 0;
    for cut in cuts {
        let mut out = String::new();
        conv.convert(&text[prev..cut], &mut out);
        split_styled.extend(parse(&out));
        prev = cut;
    }
    assert_eq!(styled, split_styled, "input {text:?}");
});
