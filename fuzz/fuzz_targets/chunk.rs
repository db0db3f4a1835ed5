//! The chunker on arbitrary bytes fed in arbitrary pieces. Invariants:
//! without a filter the pieces concatenate to exactly the input, with
//! offsets that add up; each piece carries at most the message bound; a
//! piece given out before the end (`Flush::Lines` or `Flush::Idle`) that does
//! not end a line never ends inside an escape sequence; and no such piece
//! splits a UTF-8 character: decoding each piece on its own (invalid bytes
//! as U+FFFD, as the server does) gives the same text as decoding the whole.
//! (`Flush::End` pieces are left out of the last two: the harness feeds more
//! than `room()` at once, which the follower never does, so at the end the
//! chunker may have to cut a long line at the message bound.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use wstail::encode::ansi::complete_prefix_len;
use wstail::encode::chunk::{Chunker, Flush};
use wstail::encode::filter::Filter;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let max = 8 + usize::from(seed % 64);
    let step = 1 + usize::from(seed / 4);
    let mut c = Chunker::with_max(0, Filter::default(), max);
    let mut out = Vec::new();
    // Each piece decoded on its own.
    let mut text = String::new();
    let mut end = 0;
    for (i, part) in rest.chunks(step).enumerate() {
        let space = c.space(part.len());
        space.copy_from_slice(part);
        c.commit(part.len(), part.len());
        let flush = if i % 3 == 0 {
            Flush::Idle
        } else {
            Flush::Lines
        };
        while let Some(p) = c.next_piece(flush) {
            let b = &p.bytes;
            assert!(!b.is_empty() && b.len() <= max);
            if b.last() != Some(&b'\n') {
                // The stream before a piece always ends outside any
                // sequence, so the piece can be judged on its own.
                assert_eq!(
                    complete_prefix_len(b),
                    b.len(),
                    "{b:?}"
                );
            }
            text.push_str(&String::from_utf8_lossy(b));
            out.extend_from_slice(b);
            end = p.end;
            assert_eq!(end, out.len() as u64);
        }
    }
    // What is left goes out at the end; up to there, nothing was split.
    text.push_str(&String::from_utf8_lossy(&rest[out.len()..]));
    assert_eq!(text, String::from_utf8_lossy(rest), "{rest:?}");
    while let Some(p) = c.next_piece(Flush::End) {
        out.extend_from_slice(&p.bytes);
        end = p.end;
    }
    assert_eq!(out, rest);
    assert_eq!(end, rest.len() as u64);
});
