//! What a file is, judged by its bytes and never by its name: compressed
//! (gzip, xz, zstd, bzip2, by their magic numbers) or binary (a NUL byte).
//! A compressed log is not followed or shown as text; a binary one is shown
//! only with a warning.

use crate::wire::names::Compression;

/// How many first bytes `compression` needs to see.
pub const MAGIC_LEN: usize = 6;

/// The compressions recognised, by their magic numbers (the page gets this
/// table from the server too).
pub const MAGIC: [(&[u8], Compression); 4] = [
    (&[0x1f, 0x8b], Compression::Gzip),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], Compression::Xz),
    (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
    (b"BZh", Compression::Bzip2),
];

/// The compression a file's first bytes announce.
pub fn compression(head: &[u8]) -> Option<Compression> {
    MAGIC
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|&(_, name)| name)
}

/// The compression of an open file, read from its first bytes (at offset 0,
/// without moving the file's position).
pub fn file_compression(file: &std::fs::File) -> std::io::Result<Option<Compression>> {
    use std::os::unix::fs::FileExt;
    let mut head = [0u8; MAGIC_LEN];
    let mut n = 0;
    while n < head.len() {
        match file.read_at(&mut head[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(compression(&head[..n]))
}

/// True when the bytes hold a NUL: text logs never do.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(compression(&[0x1f, 0x8b, 8, 0]), Some(Compression::Gzip));
        assert_eq!(compression(b"\xfd7zXZ\x00\x00"), Some(Compression::Xz));
        assert_eq!(
            compression(&[0x28, 0xb5, 0x2f, 0xfd, 1]),
            Some(Compression::Zstd)
        );
        assert_eq!(compression(b"BZh91AY"), Some(Compression::Bzip2));
        assert_eq!(compression(b"2026-12-01 log line"), None);
        assert_eq!(compression(b"\x1f"), None);
        assert_eq!(compression(b""), None);
        assert!(is_binary(b"a\0b"));
        assert!(!is_binary(b"plain\n"));
    }
}
