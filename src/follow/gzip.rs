//! What a gzip file's trailer says about the text it compresses, without
//! decompressing it: the CRC-32 and the length (modulo 2^32) of that text
//! (RFC 1952, the last 8 bytes of the last member). Enough to tell whether
//! a compressed generation is a copy of a file a follower has read, and how
//! many bytes it holds when it is not: what a follower skipped when a
//! generation was compressed before it was read.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// The trailer of a gzip file: CRC-32 and length (mod 2^32) of its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    pub crc: u32,
    pub size: u32,
}

/// Reads the trailer of a gzip file of `len` bytes; `None` when it is too
/// short to hold one.
pub fn trailer(file: &File, len: u64) -> Option<Trailer> {
    // 10 bytes of header, at least 2 of data, 8 of trailer.
    if len < 20 {
        return None;
    }
    let mut t = [0u8; 8];
    file.read_exact_at(&mut t, len - 8).ok()?;
    Some(Trailer {
        crc: u32::from_le_bytes([t[0], t[1], t[2], t[3]]),
        size: u32::from_le_bytes([t[4], t[5], t[6], t[7]]),
    })
}

/// True when the gzip `trailer` describes the first `trailer.size` bytes of
/// `file` (which holds `len` bytes): the compressed file is a copy of
/// them. The file is read once, in blocks, at most `max` bytes; a longer
/// prefix is not judged (false).
pub fn is_copy_of(trailer: Trailer, file: &File, len: u64, max: u64) -> bool {
    let want = u64::from(trailer.size);
    if want > len || want > max {
        return false;
    }
    let mut crc = Crc32::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0u64;
    while at < want {
        let n = (want - at).min(buf.len() as u64) as usize;
        if file.read_exact_at(&mut buf[..n], at).is_err() {
            return false;
        }
        crc.update(&buf[..n]);
        at += n as u64;
    }
    crc.value() == trailer.crc
}

/// CRC-32 as gzip computes it (polynomial 0xEDB88320, reflected).
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Crc32(0xFFFF_FFFF)
    }
}

const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = table();

impl Crc32 {
    pub fn update(&mut self, bytes: &[u8]) {
        let mut c = self.0;
        for &b in bytes {
            c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }

    pub fn value(&self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        let mut c = Crc32::default();
        c.update(b"123456789");
        assert_eq!(c.value(), 0xCBF4_3926);
    }

    #[test]
    fn a_real_gzip_trailer_names_its_text() {
        let dir = std::env::temp_dir().join(format!("wstail-gzip-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text: Vec<u8> = (0..500)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let plain = dir.join("a.log");
        std::fs::write(&plain, &text).unwrap();
        let status = std::process::Command::new("gzip")
            .args(["-k", "-n"])
            .arg(&plain)
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("no gzip: skipped");
            return;
        }
        let gz = File::open(dir.join("a.log.gz")).unwrap();
        let len = gz.metadata().unwrap().len();
        let t = trailer(&gz, len).unwrap();
        assert_eq!(t.size as usize, text.len());
        // The plain file, and a longer one it begins: copies.
        let f = File::open(&plain).unwrap();
        assert!(is_copy_of(t, &f, text.len() as u64, u64::MAX));
        std::fs::write(&plain, [&text[..], b"more\n"].concat()).unwrap();
        assert!(is_copy_of(t, &f, text.len() as u64 + 5, u64::MAX));
        assert!(!is_copy_of(t, &f, text.len() as u64 + 5, 10), "over max");
        // Other text of the same length: not a copy.
        let mut other = text.clone();
        other[3] = b'X';
        std::fs::write(&plain, &other).unwrap();
        assert!(!is_copy_of(t, &f, text.len() as u64, u64::MAX));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
