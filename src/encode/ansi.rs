//! ANSI escape sequences → HTML for `format=html`: this module owns the
//! escape-sequence parser, the SGR (colour and attribute) state that carries
//! from one message to the next, the HTML escaping of the text, and the
//! boundary rule the chunker uses so that a message never ends inside an
//! escape sequence ([`complete_prefix_len`]). It is hand-written rather than a
//! converter crate (DESIGN.md) so that it stays small and auditable: the only
//! tag it can ever emit is `<span style="…">`, the style text is built only
//! from numbers, and every other byte of the input reaches the page
//! HTML-escaped or not at all.
//!
//! Choices where terminals disagree or the page needs a decision:
//! - SGR 21 means "bold off" (as the Linux console and older xterm), not
//!   "doubly underlined"; faint is left alone (SGR 22 ends both).
//! - SGR 5 and 6 (blink) and 25 (blink off) are accepted and ignored: a
//!   blinking log line helps nobody.
//! - SGR 7 (inverse) swaps the colours; a default colour becomes the page's
//!   CSS variable, `var(--bg,#fff)` / `var(--fg,#000)`, so that the swap shows
//!   on any theme that defines them.
//! - A newline, CAN or SUB ends any unfinished escape sequence (the newline is
//!   kept), so a broken sequence can swallow at most the rest of its line.
//! - U+009B (8-bit CSI) starts a CSI; the other C1 controls are dropped, like
//!   the C0 controls other than tab and newline. Carriage returns are dropped.

use crate::limits::MAX_ESCAPE_SEQUENCE;

/// Most parameters kept from one CSI sequence (the rest are ignored): the
/// longest meaningful SGR (`38:2::r:g:b;48:2::r:g:b;…`) needs about twenty.
const MAX_PARAMS: usize = 32;

/// The xterm default palette for colours 0–15.
const BASE16: [[u8; 3]; 16] = [
    [0x00, 0x00, 0x00],
    [0xcd, 0x00, 0x00],
    [0x00, 0xcd, 0x00],
    [0xcd, 0xcd, 0x00],
    [0x00, 0x00, 0xee],
    [0xcd, 0x00, 0xcd],
    [0x00, 0xcd, 0xcd],
    [0xe5, 0xe5, 0xe5],
    [0x7f, 0x7f, 0x7f],
    [0xff, 0x00, 0x00],
    [0x00, 0xff, 0x00],
    [0xff, 0xff, 0x00],
    [0x5c, 0x5c, 0xff],
    [0xff, 0x00, 0xff],
    [0x00, 0xff, 0xff],
    [0xff, 0xff, 0xff],
];

/// Bytes that end a run of plain text in the ground state: C0 controls, DEL,
/// the five HTML-special characters, and 0xC2 (lead byte of the C1 controls
/// U+0080–U+009F, which include the 8-bit CSI).
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[0x7f] = true;
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t[0xc2] = true;
    t
};

const ESC: u8 = 0x1b;
/// Second byte of U+009B (8-bit CSI) in UTF-8, after 0xC2.
const C1_CSI: u8 = 0x9b;

/// A colour as red, green, blue.
type Rgb = [u8; 3];

/// The xterm 256-colour palette.
fn palette(n: u8) -> Rgb {
    match n {
        0..=15 => BASE16[usize::from(n)],
        16..=231 => {
            let level = |x: u8| if x == 0 { 0 } else { 55 + 40 * x };
            let n = n - 16;
            [level(n / 36), level(n / 6 % 6), level(n % 6)]
        }
        _ => {
            let g = 8 + 10 * (n - 232);
            [g, g, g]
        }
    }
}

/// The SGR attributes that change how text looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Style {
    fg: Option<Rgb>,
    bg: Option<Rgb>,
    bold: bool,
    faint: bool,
    italic: bool,
    underline: bool,
    strike: bool,
    inverse: bool,
    hidden: bool,
}

impl Style {
    fn is_default(&self) -> bool {
        *self == Style::default()
    }

    /// Appends `<span style="…">` for this style. Only fixed strings and hex
    /// digits are written, never input text.
    fn push_open_tag(&self, out: &mut String) {
        out.push_str("<span style=\"");
        let mut first = true;
        let mut item = |out: &mut String, s: &str| {
            if !first {
                out.push(';');
            }
            first = false;
            out.push_str(s);
        };
        let (fg, bg) = if self.inverse {
            (self.bg, self.fg)
        } else {
            (self.fg, self.bg)
        };
        match fg {
            Some(c) => {
                item(out, "color:");
                push_hex(out, c);
            }
            None if self.inverse => item(out, "color:var(--bg,#fff)"),
            None => {}
        }
        match bg {
            Some(c) => {
                item(out, "background-color:");
                push_hex(out, c);
            }
            None if self.inverse => item(out, "background-color:var(--fg,#000)"),
            None => {}
        }
        if self.bold {
            item(out, "font-weight:bold");
        }
        if self.faint {
            item(out, "opacity:0.7");
        }
        if self.italic {
            item(out, "font-style:italic");
        }
        match (self.underline, self.strike) {
            (true, true) => item(out, "text-decoration:underline line-through"),
            (true, false) => item(out, "text-decoration:underline"),
            (false, true) => item(out, "text-decoration:line-through"),
            (false, false) => {}
        }
        if self.hidden {
            item(out, "visibility:hidden");
        }
        out.push_str("\">");
    }
}

/// Appends `#rrggbb`.
fn push_hex(out: &mut String, c: Rgb) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('#');
    for v in c {
        out.push(char::from(HEX[usize::from(v >> 4)]));
        out.push(char::from(HEX[usize::from(v & 0xf)]));
    }
}

/// Where the escape-sequence parser is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Plain text.
    Ground,
    /// After ESC.
    Esc,
    /// After ESC and one or more intermediate bytes (`ESC ( B`).
    EscIntermediate,
    /// Inside a CSI sequence (`ESC [` or U+009B).
    Csi,
    /// Inside an OSC, DCS, SOS, PM or APC string, ended by BEL or ST.
    Str,
    /// After ESC inside such a string: `\` ends it, anything else cancels it
    /// and starts a new escape sequence.
    StrEsc,
}

/// What the parser did with one byte outside the ground state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// The byte belongs to the sequence and needs nothing more.
    Consumed,
    /// `ESC [` was completed: a CSI starts.
    CsiStart,
    /// A parameter or intermediate byte of a CSI.
    CsiByte(u8),
    /// The final byte of a CSI: the sequence is complete.
    CsiFinal(u8),
    /// The byte does not belong to the sequence, which is abandoned: process
    /// the byte again in the new state.
    Reprocess,
}

/// The escape-sequence state machine without the CSI parameters, shared by
/// the converter and [`complete_prefix_len`] so that both agree on where a
/// sequence ends.
#[derive(Clone, Copy, Debug)]
struct Seq {
    state: State,
    /// Bytes of the current sequence so far, its introducer included. A
    /// sequence cut short by the start of another (`ESC [ 3 ESC [ 1 m`) counts
    /// as the beginning of the next one, so that a prefix that ends before the
    /// next one never ends inside the abandoned one either.
    len: usize,
    /// In the ground state just after an abandoned sequence: its length,
    /// which a sequence starting at the very next byte continues.
    carry: usize,
}

impl Seq {
    const GROUND: Seq = Seq {
        state: State::Ground,
        len: 0,
        carry: 0,
    };

    /// Leaves the ground state for the byte at hand: ESC, or U+009B (which
    /// is two bytes, both consumed).
    fn start(&mut self, c1_csi: bool) {
        let (state, introducer) = if c1_csi {
            (State::Csi, 2)
        } else {
            (State::Esc, 1)
        };
        *self = Seq {
            state,
            len: self.carry + introducer,
            carry: 0,
        };
    }

    /// A byte in the ground state that starts no sequence.
    fn plain(&mut self) {
        self.carry = 0;
    }

    /// Feeds one byte; must not be called in the ground state.
    fn step(&mut self, b: u8) -> Action {
        // Abandon an overlong sequence, but only at a character boundary so
        // that the text that follows is whole UTF-8.
        if self.len >= MAX_ESCAPE_SEQUENCE && b & 0xc0 != 0x80 {
            *self = Seq::GROUND;
            return Action::Reprocess;
        }
        self.len += 1;
        match self.state {
            State::Ground => {
                *self = Seq::GROUND;
                Action::Reprocess
            }
            State::Esc => match b {
                b'[' => {
                    self.state = State::Csi;
                    Action::CsiStart
                }
                b']' | b'P' | b'X' | b'^' | b'_' => {
                    self.state = State::Str;
                    Action::Consumed
                }
                // A new ESC restarts the sequence.
                ESC => Action::Consumed,
                0x20..=0x2f => {
                    self.state = State::EscIntermediate;
                    Action::Consumed
                }
                0x30..=0x7e => self.finish(Action::Consumed),
                _ => self.abandon(),
            },
            State::EscIntermediate => match b {
                0x20..=0x2f => Action::Consumed,
                0x30..=0x7e => self.finish(Action::Consumed),
                _ => self.abandon(),
            },
            State::Csi => match b {
                0x20..=0x3f => Action::CsiByte(b),
                0x40..=0x7e => self.finish(Action::CsiFinal(b)),
                _ => self.abandon(),
            },
            State::Str => match b {
                0x07 => self.finish(Action::Consumed),
                ESC => {
                    self.state = State::StrEsc;
                    Action::Consumed
                }
                b'\n' | 0x18 | 0x1a => self.abandon(),
                _ => Action::Consumed,
            },
            State::StrEsc => {
                if b == b'\\' {
                    self.finish(Action::Consumed)
                } else {
                    // The ESC cancels the string and starts a new sequence.
                    self.state = State::Esc;
                    self.len -= 1;
                    Action::Reprocess
                }
            }
        }
    }

    /// The sequence is complete.
    fn finish(&mut self, action: Action) -> Action {
        *self = Seq::GROUND;
        action
    }

    /// The byte at hand does not belong to the sequence.
    fn abandon(&mut self) -> Action {
        *self = Seq {
            state: State::Ground,
            len: 0,
            carry: self.len - 1,
        };
        Action::Reprocess
    }
}

/// One CSI parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Param {
    /// The number; an empty parameter is 0; saturates at `u16::MAX`.
    value: u16,
    /// Preceded by `:` (a sub-parameter, as in `38:2::r:g:b`).
    sub: bool,
}

/// Converts a stream of text carrying ANSI escape sequences into HTML fragments.
#[derive(Clone, Debug)]
pub struct AnsiHtml {
    /// The style the next visible text gets.
    style: Style,
    seq: Seq,
    /// Parameters of the CSI being read (they survive a cut between calls).
    params: [Param; MAX_PARAMS],
    nparams: usize,
    /// The parameter being read.
    cur: Param,
    /// The CSI has a private marker (`?`, `<`, `=`, `>`) or intermediate
    /// bytes, so it is not an SGR even if it ends in `m`.
    csi_not_sgr: bool,
}

impl Default for AnsiHtml {
    fn default() -> Self {
        Self::new()
    }
}

impl AnsiHtml {
    /// A converter in the default style, with no escape sequence pending.
    pub fn new() -> Self {
        AnsiHtml {
            style: Style::default(),
            seq: Seq::GROUND,
            params: [Param::default(); MAX_PARAMS],
            nparams: 0,
            cur: Param::default(),
            csi_not_sgr: false,
        }
    }

    /// Appends the HTML for `input` to `out`. Each call's output is a balanced fragment.
    pub fn convert(&mut self, input: &str, out: &mut String) {
        let bytes = input.as_bytes();
        let n = bytes.len();
        // The style of the span open in `out`, if one is.
        let mut open: Option<Style> = None;
        let mut i = 0;
        while i < n {
            if self.seq.state != State::Ground {
                let b = bytes[i];
                match self.seq.step(b) {
                    Action::Consumed => {}
                    Action::CsiStart => self.csi_reset(),
                    Action::CsiByte(b) => self.csi_byte(b),
                    Action::CsiFinal(b) => self.csi_final(b),
                    Action::Reprocess => continue,
                }
                i += 1;
                continue;
            }
            // Ground: copy the longest run of plain text in one go.
            let start = i;
            while i < n {
                let b = bytes[i];
                if !SPECIAL[usize::from(b)] {
                    i += 1;
                } else if b == 0xc2 && bytes.get(i + 1).is_some_and(|&c| c >= 0xa0) {
                    // U+00A0–U+00BF: ordinary characters.
                    i += 2;
                } else {
                    break;
                }
            }
            if i > start {
                self.seq.plain();
                self.sync_span(out, &mut open);
                // Runs start and end at ASCII bytes or lead bytes, so this
                // slice is always on char boundaries.
                debug_assert!(input.is_char_boundary(start) && input.is_char_boundary(i));
                out.push_str(input.get(start..i).unwrap_or(""));
            }
            let Some(&b) = bytes.get(i) else { break };
            i += 1;
            let text = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                b'\n' => "\n",
                b'\t' => "\t",
                ESC => {
                    self.seq.start(false);
                    continue;
                }
                0xc2 => {
                    // A C1 control (U+0080–U+009F): U+009B is a CSI, the
                    // others are dropped.
                    let c1 = bytes.get(i).copied();
                    i += 1;
                    if c1 == Some(C1_CSI) {
                        self.seq.start(true);
                        self.csi_reset();
                    } else {
                        self.seq.plain();
                    }
                    continue;
                }
                // Other C0 controls, CR and DEL are dropped.
                _ => {
                    self.seq.plain();
                    continue;
                }
            };
            self.seq.plain();
            self.sync_span(out, &mut open);
            out.push_str(text);
        }
        if open.is_some() {
            out.push_str("</span>");
        }
    }

    /// Before visible text: makes the open span match the current style.
    fn sync_span(&self, out: &mut String, open: &mut Option<Style>) {
        let want = (!self.style.is_default()).then_some(self.style);
        if want != *open {
            if open.is_some() {
                out.push_str("</span>");
            }
            if let Some(style) = want {
                style.push_open_tag(out);
            }
            *open = want;
        }
    }

    fn csi_reset(&mut self) {
        self.nparams = 0;
        self.cur = Param::default();
        self.csi_not_sgr = false;
    }

    fn csi_byte(&mut self, b: u8) {
        match b {
            b'0'..=b'9' => {
                let digit = u16::from(b - b'0');
                self.cur.value = self.cur.value.saturating_mul(10).saturating_add(digit);
            }
            b';' | b':' => {
                self.csi_push_param();
                self.cur.sub = b == b':';
            }
            // Private markers and intermediate bytes.
            _ => self.csi_not_sgr = true,
        }
    }

    fn csi_push_param(&mut self) {
        if let Some(slot) = self.params.get_mut(self.nparams) {
            *slot = self.cur;
            self.nparams += 1;
        }
        self.cur = Param::default();
    }

    fn csi_final(&mut self, b: u8) {
        self.csi_push_param();
        if b == b'm' && !self.csi_not_sgr {
            let n = self.nparams.min(MAX_PARAMS);
            apply_sgr(&mut self.style, &self.params[..n]);
        }
    }

    /// True when no escape sequence is unfinished (for tests).
    #[cfg(test)]
    fn in_ground(&self) -> bool {
        self.seq.state == State::Ground
    }
}

/// Applies the parameters of one SGR sequence to `style`.
fn apply_sgr(style: &mut Style, params: &[Param]) {
    let mut k = 0;
    while k < params.len() {
        let p = params[k].value;
        k += 1;
        // Sub-parameters (`38:5:n`) belong to the parameter before them.
        let sub_start = k;
        while k < params.len() && params[k].sub {
            k += 1;
        }
        let subs = &params[sub_start..k];
        match p {
            0 => *style = Style::default(),
            1 => style.bold = true,
            2 => style.faint = true,
            3 => style.italic = true,
            4 => style.underline = true,
            7 => style.inverse = true,
            8 => style.hidden = true,
            9 => style.strike = true,
            21 => style.bold = false,
            22 => {
                style.bold = false;
                style.faint = false;
            }
            23 => style.italic = false,
            24 => style.underline = false,
            27 => style.inverse = false,
            28 => style.hidden = false,
            29 => style.strike = false,
            30..=37 => style.fg = Some(BASE16[usize::from(p - 30)]),
            39 => style.fg = None,
            40..=47 => style.bg = Some(BASE16[usize::from(p - 40)]),
            49 => style.bg = None,
            90..=97 => style.fg = Some(BASE16[usize::from(p - 90 + 8)]),
            100..=107 => style.bg = Some(BASE16[usize::from(p - 100 + 8)]),
            // 58 is the underline colour: parsed so that its arguments are
            // not read as attributes, then ignored.
            38 | 48 | 58 => {
                let colour = if subs.is_empty() {
                    match extended_colour(&params[k..]) {
                        Some((colour, used)) => {
                            k += used;
                            colour
                        }
                        // Malformed: the rest of the sequence cannot be
                        // trusted to be attributes.
                        None => return,
                    }
                } else {
                    colon_colour(subs)
                };
                match p {
                    38 => style.fg = colour.or(style.fg),
                    48 => style.bg = colour.or(style.bg),
                    _ => {}
                }
            }
            // 5, 6, 25 (blink) and everything unknown: ignored.
            _ => {}
        }
    }
}

/// `5;n` or `2;r;g;b` after a 38/48 (semicolon form): the colour (None if a
/// number is out of range) and how many parameters it used; None if the form
/// is unknown or parameters are missing.
fn extended_colour(rest: &[Param]) -> Option<(Option<Rgb>, usize)> {
    match rest.first()?.value {
        5 => {
            let n = rest.get(1)?.value;
            Some((u8::try_from(n).ok().map(palette), 2))
        }
        2 => {
            let rgb = rest.get(1..4)?;
            Some((rgb_of(rgb[0].value, rgb[1].value, rgb[2].value), 4))
        }
        _ => None,
    }
}

/// `5:n`, `2::r:g:b` or `2:r:g:b` (colon form, colour space id optional).
fn colon_colour(subs: &[Param]) -> Option<Rgb> {
    match subs.first()?.value {
        5 => u8::try_from(subs.get(1)?.value).ok().map(palette),
        2 => {
            let rgb = if subs.len() >= 5 {
                &subs[2..5]
            } else {
                subs.get(1..4)?
            };
            rgb_of(rgb[0].value, rgb[1].value, rgb[2].value)
        }
        _ => None,
    }
}

fn rgb_of(r: u16, g: u16, b: u16) -> Option<Rgb> {
    Some([
        u8::try_from(r).ok()?,
        u8::try_from(g).ok()?,
        u8::try_from(b).ok()?,
    ])
}

/// Helper used by the chunker: the length of the longest prefix of `bytes` that does
/// not end inside an escape sequence (CSI, OSC, or two-byte ESC). If the unfinished
/// sequence is longer than `MAX_ESCAPE_SEQUENCE` bytes, returns bytes.len()
/// (give up holding it back).
pub fn complete_prefix_len(bytes: &[u8]) -> usize {
    let n = bytes.len();
    // A newline ends every sequence, so an unfinished one starts after the
    // last newline.
    let mut i = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let mut seq = Seq::GROUND;
    while i < n {
        let b = bytes[i];
        if seq.state == State::Ground {
            if b == ESC {
                seq.start(false);
            } else if b == 0xc2 && bytes.get(i + 1) == Some(&C1_CSI) {
                seq.start(true);
                i += 1;
            } else {
                seq.plain();
            }
        } else if seq.step(b) == Action::Reprocess {
            continue;
        }
        i += 1;
    }
    if seq.state == State::Ground || seq.len > MAX_ESCAPE_SEQUENCE {
        n
    } else {
        n - seq.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    fn html(input: &str) -> String {
        let mut out = String::new();
        AnsiHtml::new().convert(input, &mut out);
        out
    }

    fn html_pieces(pieces: &[&str]) -> Vec<String> {
        let mut conv = AnsiHtml::new();
        pieces
            .iter()
            .map(|p| {
                let mut out = String::new();
                conv.convert(p, &mut out);
                out
            })
            .collect()
    }

    /// Parses our output back into (style attribute, char) pairs, checking
    /// that it is well-formed: only `<span style="…">` and `</span>` tags,
    /// never nested, balanced, only our five entities.
    fn parse(out: &str) -> Result<Vec<(String, char)>, String> {
        let mut res = Vec::new();
        let mut style: Option<String> = None;
        let mut rest = out;
        while let Some(c) = rest.chars().next() {
            if let Some(r) = rest.strip_prefix("<span style=\"") {
                if style.is_some() {
                    return Err(format!("nested span in {out:?}"));
                }
                let end = r.find("\">").ok_or("unterminated tag")?;
                let s = &r[..end];
                if s.is_empty() || s.contains(['<', '>', '"', '&', '\'']) {
                    return Err(format!("bad style {s:?}"));
                }
                style = Some(s.to_string());
                rest = &r[end + 2..];
            } else if let Some(r) = rest.strip_prefix("</span>") {
                if style.take().is_none() {
                    return Err(format!("</span> without <span in {out:?}"));
                }
                rest = r;
            } else if c == '<' || c == '>' || c == '"' || c == '\'' {
                return Err(format!("raw {c:?} in {out:?}"));
            } else if c == '&' {
                let (ch, len) = [
                    ("&amp;", '&'),
                    ("&lt;", '<'),
                    ("&gt;", '>'),
                    ("&quot;", '"'),
                    ("&#39;", '\''),
                ]
                .iter()
                .find(|(e, _)| rest.starts_with(e))
                .map(|(e, ch)| (*ch, e.len()))
                .ok_or_else(|| format!("bad entity in {out:?}"))?;
                res.push((style.clone().unwrap_or_default(), ch));
                rest = &rest[len..];
            } else {
                if (c < ' ' && c != '\n' && c != '\t') || ('\u{7f}'..='\u{9f}').contains(&c) {
                    return Err(format!("control {c:?} in {out:?}"));
                }
                res.push((style.clone().unwrap_or_default(), c));
                rest = &rest[c.len_utf8()..];
            }
        }
        if style.is_some() {
            return Err(format!("unclosed span in {out:?}"));
        }
        if out.contains("\"></span>") {
            return Err(format!("empty span in {out:?}"));
        }
        Ok(res)
    }

    fn text_of(out: &str) -> String {
        parse(out).unwrap().into_iter().map(|(_, c)| c).collect()
    }

    #[test]
    fn escapes_html_and_keeps_newlines() {
        assert_eq!(
            html("a<b>&\"c\"'d'\n"),
            "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;\n"
        );
        assert_eq!(html("tab\there"), "tab\there");
        assert_eq!(html("é 日本 ° \u{a0}"), "é 日本 ° \u{a0}");
    }

    #[test]
    fn drops_controls_and_carriage_returns() {
        assert_eq!(html("a\r\nb\rc\x00d\x07e\x08f\x7fg\n"), "a\nbcdefg\n");
        // C1 controls other than CSI are dropped.
        assert_eq!(html("a\u{85}b\u{9c}c\u{80}d"), "abcd");
    }

    #[test]
    fn basic_colours_and_reset() {
        assert_eq!(
            html("\x1b[31mred\x1b[0m plain"),
            "<span style=\"color:#cd0000\">red</span> plain"
        );
        assert_eq!(
            html("\x1b[1;31;42mx"),
            "<span style=\"color:#cd0000;background-color:#00cd00;font-weight:bold\">x</span>"
        );
        assert_eq!(html("\x1b[97mx"), "<span style=\"color:#ffffff\">x</span>");
        assert_eq!(
            html("\x1b[104mx"),
            "<span style=\"background-color:#5c5cff\">x</span>"
        );
        assert_eq!(html("\x1b[31m\x1b[39mx"), "x");
        assert_eq!(html("\x1b[41m\x1b[49mx"), "x");
        assert_eq!(
            html("\x1b[31mx\x1b[mx"),
            "<span style=\"color:#cd0000\">x</span>x"
        );
        assert_eq!(html("\x1b[31mx\x1b[;1mx"), html("\x1b[31mx\x1b[0;1mx"));
        assert_eq!(
            html("\x1b[31mx\x1b[;1mx"),
            "<span style=\"color:#cd0000\">x</span><span style=\"font-weight:bold\">x</span>"
        );
    }

    #[test]
    fn attributes() {
        let cases: &[(&str, &str)] = &[
            ("1", "font-weight:bold"),
            ("2", "opacity:0.7"),
            ("3", "font-style:italic"),
            ("4", "text-decoration:underline"),
            ("9", "text-decoration:line-through"),
            ("4;9", "text-decoration:underline line-through"),
            ("8", "visibility:hidden"),
            ("7", "color:var(--bg,#fff);background-color:var(--fg,#000)"),
            ("7;31", "color:var(--bg,#fff);background-color:#cd0000"),
            ("7;31;44", "color:#0000ee;background-color:#cd0000"),
            ("1;2", "font-weight:bold;opacity:0.7"),
        ];
        for (params, style) in cases {
            assert_eq!(
                html(&format!("\x1b[{params}mx")),
                format!("<span style=\"{style}\">x</span>"),
                "{params}"
            );
        }
        // Blink is ignored.
        assert_eq!(html("\x1b[5mx\x1b[6my\x1b[25mz"), "xyz");
        // Each "off" undoes its "on".
        for (on, off) in [
            ("1", "22"),
            ("2", "22"),
            ("1", "21"),
            ("3", "23"),
            ("4", "24"),
            ("7", "27"),
            ("8", "28"),
            ("9", "29"),
        ] {
            assert_eq!(html(&format!("\x1b[{on}m\x1b[{off}mx")), "x", "{on} {off}");
        }
        // 21 is bold off only: faint stays.
        assert_eq!(
            html("\x1b[1;2;21mx"),
            "<span style=\"opacity:0.7\">x</span>"
        );
    }

    #[test]
    fn palette_256_and_truecolour() {
        let fg = |params: &str| html(&format!("\x1b[{params}mx"));
        let span = |style: &str| format!("<span style=\"{style}\">x</span>");
        assert_eq!(fg("38;5;1"), span("color:#cd0000"));
        assert_eq!(fg("38;5;12"), span("color:#5c5cff"));
        assert_eq!(fg("38;5;16"), span("color:#000000"));
        assert_eq!(fg("38;5;17"), span("color:#00005f"));
        assert_eq!(fg("38;5;196"), span("color:#ff0000"));
        assert_eq!(fg("38;5;231"), span("color:#ffffff"));
        assert_eq!(fg("38;5;110"), span("color:#87afd7"));
        assert_eq!(fg("38;5;232"), span("color:#080808"));
        assert_eq!(fg("38;5;255"), span("color:#eeeeee"));
        assert_eq!(fg("48;5;244"), span("background-color:#808080"));
        assert_eq!(fg("38;2;1;2;255"), span("color:#0102ff"));
        assert_eq!(fg("48;2;255;128;0"), span("background-color:#ff8000"));
        assert_eq!(fg("38:5:196"), span("color:#ff0000"));
        assert_eq!(fg("38:2::10:20:30"), span("color:#0a141e"));
        assert_eq!(fg("38:2:10:20:30"), span("color:#0a141e"));
        assert_eq!(fg("38:2:0:10:20:30"), span("color:#0a141e"));
        // Parameters after an extended colour still apply.
        assert_eq!(
            fg("38;5;1;1;48;2;0;0;255;3"),
            span("color:#cd0000;background-color:#0000ff;font-weight:bold;font-style:italic")
        );
        assert_eq!(fg("38:5:1;1"), span("color:#cd0000;font-weight:bold"));
        // The underline colour is skipped, not read as faint/blink.
        assert_eq!(fg("58;2;1;2;3;1"), span("font-weight:bold"));
        assert_eq!(fg("58:5:3;1"), span("font-weight:bold"));
    }

    #[test]
    fn malformed_extended_colours_are_ignored() {
        for params in [
            "38",
            "38;",
            "38;5",
            "38;5;",
            "38;2;1;2",
            "38;5;256",
            "38;2;256;0;0",
            "38;9;1",
            "48;5;99999999999",
            "38:2",
            "38:5",
            "38::",
            "38:2:1:2",
            "38:5:300",
            "48;2;;;",
            "38;2;1;2;3;4;5;6;7;8",
        ] {
            let out = html(&format!("\x1b[31m\x1b[{params}mx"));
            let parsed = parse(&out).unwrap();
            assert_eq!(parsed.len(), 1, "{params}: {out}");
        }
        // Out of range keeps the previous colour; missing pieces end the sequence.
        assert_eq!(
            html("\x1b[31;38;5;256mx"),
            "<span style=\"color:#cd0000\">x</span>"
        );
        assert_eq!(
            html("\x1b[38;5m\x1b[1mx"),
            "<span style=\"font-weight:bold\">x</span>"
        );
        assert_eq!(
            html("\x1b[48;2;;;mx"),
            "<span style=\"background-color:#000000\">x</span>"
        );
    }

    #[test]
    fn unknown_and_private_sequences_do_nothing() {
        assert_eq!(html("\x1b[53;73;1000;65535;99999mx"), "x");
        assert_eq!(html("\x1b[>4;2mx"), "x");
        assert_eq!(html("\x1b[?1mx"), "x");
        assert_eq!(html("\x1b[1 mx"), "x");
        assert_eq!(html("\x1b[1;31xy"), "y");
    }

    #[test]
    fn other_escapes_are_removed() {
        let cases: &[(&str, &str)] = &[
            ("a\x1b[2Jb\x1b[Hc\x1b[10;20Hd\x1b[Ke", "abcde"),
            ("a\x1b[?25lb\x1b[?25hc\x1b[?1049hd", "abcd"),
            ("\x1b]0;title\x07text", "text"),
            (
                "\x1b]8;;http://example.com/<x>\x1b\\link\x1b]8;;\x1b\\ after",
                "link after",
            ),
            ("\x1b]8;;http://a\x07link\x1b]8;;\x07", "link"),
            ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),
            ("a\x1b^pm\x1b\\b\x1b_apc\x1b\\c\x1bXsos\x1b\\d", "abcd"),
            ("a\x1bcb\x1b7c\x1b8d\x1b=e\x1b>f\x1bMg", "abcdefg"),
            ("a\x1b(Bb\x1b)0c\x1b#8d\x1b%Ge", "abcde"),
            ("a\u{9b}31mb", "ab"),
            // ESC cancels an OSC and starts a new sequence.
            ("\x1b]0;t\x1b[31mred", "red"),
            // A newline ends any unfinished sequence and is kept.
            ("\x1b]0;title\nnext", "\nnext"),
            ("\x1b[31\nx", "\nx"),
            ("\x1b\nx", "\nx"),
            ("\x1b(\nx", "\nx"),
            // A non-ASCII byte ends a CSI and is kept.
            ("\x1b[3é", "é"),
            ("\x1bé", "é"),
            // CAN and SUB cancel a string.
            ("\x1b]0;t\x18x", "x"),
        ];
        for (input, text) in cases {
            assert_eq!(text_of(&html(input)), *text, "{input:?}");
        }
        assert_eq!(
            html("\x1b]0;t\x1b[31mred"),
            "<span style=\"color:#cd0000\">red</span>"
        );
    }

    #[test]
    fn state_carries_across_calls() {
        assert_eq!(
            html_pieces(&["\x1b[3", "1mred"]),
            ["", "<span style=\"color:#cd0000\">red</span>"]
        );
        assert_eq!(
            html_pieces(&["\x1b", "[1mb"]),
            ["", "<span style=\"font-weight:bold\">b</span>"]
        );
        assert_eq!(
            html_pieces(&["\x1b[38;", "2;1", "0;0;0mx"]),
            ["", "", "<span style=\"color:#0a0000\">x</span>"]
        );
        assert_eq!(
            html_pieces(&["a\x1b]8;;htt", "p://x\x1b", "\\b"]),
            ["a", "", "b"]
        );
        assert_eq!(
            html_pieces(&["\x1b[31mone\n", "two\n", "\x1b[0mthree\n"]),
            [
                "<span style=\"color:#cd0000\">one\n</span>",
                "<span style=\"color:#cd0000\">two\n</span>",
                "three\n"
            ]
        );
        // A style set at the end of a call opens nothing until text comes.
        assert_eq!(
            html_pieces(&["a\x1b[1m", "", "b"]),
            ["a", "", "<span style=\"font-weight:bold\">b</span>"]
        );
    }

    #[test]
    fn spans_change_only_when_the_style_does() {
        assert_eq!(
            html("\x1b[31ma\x1b[31mb\x1b[1m\x1b[22mc"),
            "<span style=\"color:#cd0000\">abc</span>"
        );
        assert_eq!(html("\x1b[31m\x1b[32m\x1b[0m"), "");
        assert_eq!(
            html("\x1b[31ma\x1b[0m\x1b[31mb"),
            "<span style=\"color:#cd0000\">ab</span>"
        );
        assert_eq!(
            html("\x1b[31ma\x1b[32mb"),
            "<span style=\"color:#cd0000\">a</span><span style=\"color:#00cd00\">b</span>"
        );
    }

    #[test]
    fn overlong_sequences_are_abandoned() {
        let long = format!("\x1b]0;{}", "x".repeat(MAX_ESCAPE_SEQUENCE * 2));
        let out = html(&long);
        let text = text_of(&out);
        assert!(text.len() > MAX_ESCAPE_SEQUENCE / 2 && text.len() < MAX_ESCAPE_SEQUENCE * 2);
        // Not at a continuation byte.
        let long = format!("\x1b]0;{}", "é".repeat(MAX_ESCAPE_SEQUENCE));
        assert!(text_of(&html(&long)).chars().all(|c| c == 'é'));
        let long = format!("\x1b[{}m", "1;".repeat(MAX_ESCAPE_SEQUENCE));
        let mut conv = AnsiHtml::new();
        let mut out = String::new();
        conv.convert(&long, &mut out);
        assert!(conv.in_ground());
        // Many parameters: those after MAX_PARAMS are ignored, no panic.
        let many = format!("\x1b[{}31mx", "0;".repeat(MAX_PARAMS * 3));
        assert_eq!(html(&many), "x");
    }

    #[test]
    fn complete_prefix_len_examples() {
        assert_eq!(complete_prefix_len(b"abc\x1b[31"), 3);
        assert_eq!(complete_prefix_len(b"abc\x1b[31m"), 8);
        assert_eq!(complete_prefix_len(b"ab\x1b"), 2);
        assert_eq!(complete_prefix_len(b"x\x1b]8;;http://a"), 1);
        assert_eq!(complete_prefix_len(b"x\x1b]8;;http://a\x07"), 15);
        assert_eq!(complete_prefix_len(b"x\x1b]8;;http://a\x1b\\"), 16);
        assert_eq!(complete_prefix_len(b"x\x1b]8;;http://a\x1b"), 1);
        assert_eq!(complete_prefix_len(b"x\x1b]0;a\x1b[3"), 1);
        // A sequence cut short by another counts with it.
        assert_eq!(complete_prefix_len(b"x\x1b[3\x1b[3"), 1);
        assert_eq!(complete_prefix_len(b"x\x1b[3\x1b[3m"), 8);
        assert_eq!(complete_prefix_len(b"x\x1b[3\ry\x1b[3"), 6);
        assert_eq!(complete_prefix_len(b"plain text\n"), 11);
        assert_eq!(complete_prefix_len(b""), 0);
        assert_eq!(complete_prefix_len(b"a\x1b("), 1);
        assert_eq!(complete_prefix_len(b"a\x1b(B"), 4);
        assert_eq!(complete_prefix_len(b"a\x1bPq"), 1);
        assert_eq!(complete_prefix_len("a\u{9b}3".as_bytes()), 1);
        assert_eq!(complete_prefix_len("a\u{9b}3m".as_bytes()), 5);
        assert_eq!(complete_prefix_len("aé\x1b".as_bytes()), 3);
        // A newline ends the sequence.
        assert_eq!(complete_prefix_len(b"\x1b]0;t\nab"), 8);
        // Held back only up to MAX_ESCAPE_SEQUENCE bytes: a sequence of
        // exactly that many is held, one that a last character takes past
        // it is not.
        let at_most = [b"ab\x1b]".as_slice(), &vec![b'x'; MAX_ESCAPE_SEQUENCE - 2]].concat();
        assert_eq!(complete_prefix_len(&at_most), 2);
        let past = [
            b"ab\x1b]".as_slice(),
            &vec![b'x'; MAX_ESCAPE_SEQUENCE - 3],
            "é".as_bytes(),
        ]
        .concat();
        assert_eq!(complete_prefix_len(&past), past.len());
        assert_eq!(complete_prefix_len(&past[..past.len() - 1]), 2);
        let long = [b"a\x1b]".as_slice(), &[b'x'; 10_000]].concat();
        assert_eq!(complete_prefix_len(&long), long.len());
    }

    /// Pieces of the random inputs: (input, visible text).
    const VOCAB: &[(&str, &str)] = &[
        ("a", "a"),
        ("Hello", "Hello"),
        (" ", " "),
        ("<", "<"),
        ("&", "&"),
        (">", ">"),
        ("\"", "\""),
        ("'", "'"),
        ("é", "é"),
        ("日本", "日本"),
        ("\n", "\n"),
        ("\r\n", "\n"),
        ("\t", "\t"),
        ("°", "°"),
        ("\x1b[2K", ""),
        ("\x1b[?25l", ""),
        ("\x1b[10;20H", ""),
        ("\x1b]0;title\x07", ""),
        ("\x1b]8;;http://x/<a>\x1b\\", ""),
        ("\x1bP1$r\x1b\\", ""),
        ("\x1b(B", ""),
        ("\x1b7", ""),
        ("\u{9b}1m", ""),
        ("\x1b[m", ""),
    ];

    fn random_sgr(rng: &mut Rng) -> String {
        let mut s = String::from("\x1b[");
        for k in 0..rng.below(5) {
            if k > 0 {
                s.push(';');
            }
            match rng.below(10) {
                0 => s.push_str(&format!("38;5;{}", rng.below(300))),
                1 => s.push_str(&format!(
                    "48;2;{};{};{}",
                    rng.below(300),
                    rng.below(256),
                    rng.below(256)
                )),
                2 => s.push_str(&format!(
                    "38:2::{}:{}:{}",
                    rng.below(256),
                    rng.below(256),
                    rng.below(256)
                )),
                3 => s.push_str(["38", "48;5", "38;2;1", "58;5;3", ""][rng.below(5)]),
                _ => s.push_str(&rng.below(110).to_string()),
            }
        }
        s.push('m');
        s
    }

    /// A random input and, when it holds no lone ESC, its visible text.
    fn random_input(rng: &mut Rng) -> (String, Option<String>) {
        let mut input = String::new();
        let mut text = Some(String::new());
        for _ in 0..rng.below(40) {
            match rng.below(10) {
                0..=2 => input.push_str(&random_sgr(rng)),
                3 if rng.below(4) == 0 => {
                    input.push('\x1b');
                    text = None;
                }
                _ => {
                    let (piece, visible) = VOCAB[rng.below(VOCAB.len())];
                    input.push_str(piece);
                    if let Some(t) = &mut text {
                        t.push_str(visible);
                    }
                }
            }
        }
        (input, text)
    }

    #[test]
    fn property_whole_equals_split() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for _ in 0..5000 {
            let (input, text) = random_input(&mut rng);
            let whole = html(&input);
            let styled = parse(&whole).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            if let Some(text) = text {
                let got: String = styled.iter().map(|(_, c)| c).collect();
                assert_eq!(got, text, "{input:?}");
            }
            // Split at random char boundaries.
            let mut cuts: Vec<usize> = (0..rng.below(6))
                .map(|_| rng.below(input.len() + 1))
                .filter(|&c| input.is_char_boundary(c))
                .collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut prev = 0;
            for c in cuts.into_iter().chain([input.len()]) {
                pieces.push(&input[prev..c]);
                prev = c;
            }
            let outs = html_pieces(&pieces);
            let mut split_styled = Vec::new();
            for out in &outs {
                assert_eq!(out.matches("<span").count(), out.matches("</span>").count());
                split_styled.extend(parse(out).unwrap_or_else(|e| panic!("{input:?}: {e}")));
                assert_eq!(
                    out.matches('<').count(),
                    out.matches("<span style=\"").count() + out.matches("</span>").count()
                );
            }
            assert_eq!(styled, split_styled, "{input:?} split as {pieces:?}");
        }
    }

    #[test]
    fn property_complete_prefix_matches_converter() {
        let mut rng = Rng(0x0bad_cafe_f00d_0001);
        for _ in 0..5000 {
            let (mut input, _) = random_input(&mut rng);
            // Cut short, at a char boundary, to leave sequences unfinished.
            let mut cut = rng.below(input.len() + 1);
            while !input.is_char_boundary(cut) {
                cut -= 1;
            }
            input.truncate(cut);
            assert!(input.len() <= MAX_ESCAPE_SEQUENCE, "{input:?}");
            let p = complete_prefix_len(input.as_bytes());
            assert!(input.is_char_boundary(p), "{input:?} {p}");
            let mut conv = AnsiHtml::new();
            let mut out = String::new();
            conv.convert(&input[..p], &mut out);
            assert!(conv.in_ground(), "{input:?} prefix {p}");
            if p < input.len() {
                conv.convert(&input[p..], &mut out);
                assert!(!conv.in_ground(), "{input:?} prefix {p}");
            }
        }
    }

    #[test]
    fn no_panic_on_short_sequences() {
        let mut chars: Vec<char> = (0u8..0x80).map(char::from).collect();
        chars.extend([
            'é',
            '\u{85}',
            '\u{9b}',
            '\u{9c}',
            '\u{a0}',
            '日',
            '\u{10ffff}',
        ]);
        let prefixes = [
            "",
            "\x1b",
            "\x1b[",
            "\x1b]",
            "\x1bP",
            "\x1b(",
            "\u{9b}",
            "\x1b[38;",
            "\x1b[38;2;",
            "\x1b[38:2:",
            "\x1b[48;5;",
            "\x1b[1;",
            "\x1b]8;;x\x1b",
        ];
        let mut buf = String::new();
        for prefix in prefixes {
            for &c1 in &chars {
                for &c2 in &chars {
                    buf.clear();
                    buf.push_str(prefix);
                    buf.push(c1);
                    buf.push(c2);
                    buf.push('x');
                    let mut conv = AnsiHtml::new();
                    let mut out = String::new();
                    conv.convert(&buf, &mut out);
                    let _ = complete_prefix_len(buf.as_bytes());
                    // Every piece balanced; no raw '<' except our tags.
                    let spans = out.matches("<span style=\"").count();
                    assert_eq!(spans, out.matches("</span>").count(), "{buf:?}");
                    assert_eq!(out.matches('<').count(), 2 * spans, "{buf:?}");
                }
            }
        }
        // Numbers through every SGR code, alone and as extended colours.
        for n in 0..=400 {
            for form in ["{}", "38;5;{}", "48;2;{};{};{}", "38:2::{}:{}:{}", "{};{}"] {
                let seq = form.replace("{}", &n.to_string());
                let out = html(&format!("\x1b[{seq}mx\x1b[{seq}"));
                parse(&out).unwrap_or_else(|e| panic!("{seq}: {e}"));
            }
        }
    }

    #[test]
    fn ten_megabytes_convert() {
        let line =
            "2024-01-01 12:00:00 \x1b[32mINFO\x1b[0m server: request <GET /a?b=1&c=2> took 3ms é\n";
        let input = line.repeat(10 * 1024 * 1024 / line.len());
        let mut out = String::with_capacity(input.len() * 2);
        let mut conv = AnsiHtml::new();
        let mut start = 0;
        while start < input.len() {
            // Chunks of whole lines are the chunker's job; here split at
            // char boundaries only.
            let mut end = (start + 64 * 1024).min(input.len());
            while !input.is_char_boundary(end) {
                end -= 1;
            }
            conv.convert(&input[start..end], &mut out);
            start = end;
        }
        assert!(out.len() > input.len());
    }
}
