//! The ANSI-to-HTML converter on arbitrary text cut at arbitrary places:
//! never panics, every piece's output is balanced, and the only markup is
//! `<span style="…">` and `</span>`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wstail::ansi::AnsiHtml;

fuzz_target!(|data: &[u8]| {
    let Some((&cut_seed, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let mut conv = AnsiHtml::new();
    let mut at = 0;
    let step = usize::from(cut_seed).max(1);
    while at < text.len() {
        let mut end = (at + step).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let mut out = String::new();
        conv.convert(&text[at..end], &mut out);
        assert_eq!(out.matches("<span").count(), out.matches("</span>").count(), "{out:?}");
        let stripped = out.replace("</span>", "");
        for (i, _) in stripped.match_indices('<') {
            assert!(stripped[i..].starts_with("<span style=\""), "{out:?}");
        }
        at = end;
    }
});
