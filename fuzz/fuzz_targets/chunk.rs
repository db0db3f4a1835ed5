//! The chunker on arbitrary bytes fed in arbitrary pieces: without a
//! filter, the pieces concatenate to exactly the input, each piece carries
//! at most the message bound, and offsets add up.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wstail::chunk::{Chunker, Flush};
use wstail::filter::Filter;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, rest)) = data.split_first() else { return };
    let max = 8 + usize::from(seed % 64);
    let step = 1 + usize::from(seed / 4);
    let mut c = Chunker::with_max(0, Filter::default(), max);
    let mut out = Vec::new();
    let mut end = 0;
    for (i, part) in rest.chunks(step).enumerate() {
        let space = c.space(part.len());
        space.copy_from_slice(part);
        c.commit(part.len(), part.len());
        let flush = if i % 3 == 0 { Flush::Idle } else { Flush::Lines };
        while let Some(p) = c.next_piece(flush) {
            assert!(p.bytes.len() <= max);
            out.extend_from_slice(&p.bytes);
            end = p.end;
        }
    }
    while let Some(p) = c.next_piece(Flush::End) {
        out.extend_from_slice(&p.bytes);
        end = p.end;
    }
    assert_eq!(out, rest);
    assert_eq!(end, rest.len() as u64);
});
