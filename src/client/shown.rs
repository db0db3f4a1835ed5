//! The one filter between what a server says about a connection and the
//! operator's terminal. A refusal's reason, a Close frame's reason, an error
//! tungstenite read from the server's answer: all of it is chosen by the
//! server (and a refusal may echo bytes of a crafted URL), so before it is
//! printed every control character becomes visible text — C0 and DEL as
//! `\xNN`, C1 and the bidirectional overrides and isolates (U+202A–202E,
//! U+2066–2069) as `\u{…}`. No title change, cleared screen, OSC 52
//! clipboard write or reversed text reaches the terminal that way.
//!
//! The log text itself is not filtered: printing the file's bytes as they
//! are, colours included, is `tail -f`'s contract (see the man page).

use std::fmt::Write as _;

/// `text` with every control and bidi override made visible.
pub(super) fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let n = u32::from(c);
        match n {
            0x00..=0x1f | 0x7f => {
                let _ = write!(out, "\\x{n:02x}");
            }
            0x80..=0x9f | 0x202a..=0x202e | 0x2066..=0x2069 => {
                let _ = write!(out, "\\u{{{n:x}}}");
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_become_visible() {
        let cases: &[(&str, &str)] = &[
            ("plain text: a/b, é, 日本", "plain text: a/b, é, 日本"),
            // OSC 52 (clipboard), clear screen, BEL, title.
            ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
            ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
            ("\x1b]0;owned\x1b\\", "\\x1b]0;owned\\x1b\\"),
            ("a\nb\r\tc\0", "a\\x0ab\\x0d\\x09c\\x00"),
            ("\x7f", "\\x7f"),
            // C1: CSI and OSC in their one-character forms, NEL.
            ("\u{9b}2J\u{9d}0;x\u{85}", "\\u{9b}2J\\u{9d}0;x\\u{85}"),
            ("\u{202e}gol.exe", "\\u{202e}gol.exe"),
            (
                "\u{202a}\u{202b}\u{202c}\u{202d}\u{2066}\u{2067}\u{2068}\u{2069}",
                "\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{2066}\\u{2067}\\u{2068}\\u{2069}",
            ),
            // Neighbours stay: the zero-width and marks are not overrides.
            (
                "\u{2029}\u{200f}\u{206a}\u{a0}",
                "\u{2029}\u{200f}\u{206a}\u{a0}",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(shown(raw), *want, "{raw:?}");
        }
    }

    #[test]
    fn nothing_shown_holds_a_control() {
        // Every character up to U+3000 and a few beyond, alone and mixed.
        let all: String = (0..0x3000u32)
            .chain([0xfeff, 0xfffd, 0x1f600])
            .filter_map(char::from_u32)
            .collect();
        let out = shown(&all);
        for c in out.chars() {
            let n = u32::from(c);
            assert!(
                !(n < 0x20
                    || (0x7f..=0x9f).contains(&n)
                    || (0x202a..=0x202e).contains(&n)
                    || (0x2066..=0x2069).contains(&n)),
                "{n:#x} passed"
            );
        }
    }
}
