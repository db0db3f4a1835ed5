//! gzip files (RFC 1952), read without any other tool: a member's header
//! (FEXTRA, FNAME, FCOMMENT, FHCRC), its raw deflate data inflated by
//! `miniz_oxide`'s core decompressor into a 32 KiB window, its trailer
//! (CRC-32 and length, checked), and the members that follow (`cat a.gz
//! b.gz` is one valid file). `Inflater` reads a gzip file forward as
//! uncompressed bytes and can be snapshotted between two reads (`Snapshot`:
//! the decompressor's state and its window), which is what a restart point
//! is (`restart.rs`). A member that will not inflate, a bad header, a CRC
//! or length mismatch and a file cut short are all a corrupt gzip: an
//! error of kind `InvalidData` (`UnexpectedEof` when cut short) whose text
//! begins `corrupt gzip`, never garbage.
//!
//! Also what a trailer says without inflating: the CRC-32 and length
//! (modulo 2^32) of the text, enough to tell whether a compressed
//! generation is a copy of a file a follower has read.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{
    DecompressorOxide, TINFL_LZ_DICT_SIZE, decompress, inflate_flags,
};

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

/// CRC-32 as gzip computes it (polynomial 0xEDB88320, reflected), eight
/// bytes at a time (slicing-by-8): the check runs over every inflated byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Crc32(0xFFFF_FFFF)
    }
}

const fn tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
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
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut j = 1;
        while j < 8 {
            let prev = t[j - 1][i];
            t[j][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            j += 1;
        }
        i += 1;
    }
    t
}

static TABLES: [[u32; 256]; 8] = tables();

impl Crc32 {
    pub fn update(&mut self, bytes: &[u8]) {
        let t = &TABLES;
        let mut c = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for b in &mut chunks {
            let lo = c ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            c = t[7][(lo & 0xFF) as usize]
                ^ t[6][((lo >> 8) & 0xFF) as usize]
                ^ t[5][((lo >> 16) & 0xFF) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][b[4] as usize]
                ^ t[2][b[5] as usize]
                ^ t[1][b[6] as usize]
                ^ t[0][b[7] as usize];
        }
        for &b in chunks.remainder() {
            c = t[0][((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }

    pub fn value(&self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

/// The bytes of a gzip member's header (RFC 1952, 2.3.1) at the start of
/// `b`: `Ok(Some(n))` when the whole header is its first `n` bytes,
/// `Ok(None)` when `b` ends before the header does, `Err` when it is not a
/// gzip header (wrong magic, a method other than deflate, reserved flags,
/// a header CRC that does not match).
pub fn header_len(b: &[u8]) -> Result<Option<usize>, &'static str> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    const RESERVED: u8 = 0xE0;
    for (i, want) in [0x1f, 0x8b, 8].into_iter().enumerate() {
        match b.get(i) {
            None => return Ok(None),
            Some(&x) if x != want => {
                return Err(if i < 2 {
                    "not a gzip member"
                } else {
                    "a compression method other than deflate"
                });
            }
            Some(_) => {}
        }
    }
    if b.len() < 10 {
        return Ok(None);
    }
    let flags = b[3];
    if flags & RESERVED != 0 {
        return Err("reserved header flags set");
    }
    let mut n = 10;
    if flags & FEXTRA != 0 {
        let Some(x) = b.get(n..n + 2) else {
            return Ok(None);
        };
        n += 2 + usize::from(u16::from_le_bytes([x[0], x[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let Some(rest) = b.get(n..) else {
                return Ok(None);
            };
            match rest.iter().position(|&c| c == 0) {
                Some(k) => n += k + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & FHCRC != 0 {
        let Some(x) = b.get(n..n + 2) else {
            return Ok(None);
        };
        let mut crc = Crc32::default();
        crc.update(&b[..n]);
        if (crc.value() & 0xFFFF) as u16 != u16::from_le_bytes([x[0], x[1]]) {
            return Err("header CRC mismatch");
        }
        n += 2;
    }
    if b.len() < n {
        return Ok(None);
    }
    Ok(Some(n))
}

/// Longest member header accepted (FEXTRA up to 64 KiB, and a file name
/// and a comment): a longer one is taken for a corrupt file rather than
/// read on without end.
const MAX_HEADER: usize = 256 * 1024;

/// Compressed bytes read at once.
const INPUT_BLOCK: usize = 64 * 1024;

/// Where an `Inflater` is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before a member's header (the first, or one after a trailer).
    Header,
    /// Inside a member's deflate data.
    Deflate,
    /// After a member's deflate data, before its trailer.
    Trailer,
    /// Past the last member.
    Done,
}

/// The inflater's state between two reads: enough to go on from there
/// later, in another reader (a restart point).
#[derive(Clone)]
pub struct Snapshot {
    stage: Stage,
    /// Offset in the compressed file of the next byte to give the
    /// decompressor.
    in_pos: u64,
    /// Offset in the uncompressed bytes of the next byte to come out.
    pub out_pos: u64,
    decomp: Box<DecompressorOxide>,
    dict: Box<[u8]>,
    dict_ofs: usize,
    crc: Crc32,
    member_len: u64,
}

impl Snapshot {
    /// The memory a snapshot holds: its window and the decompressor's
    /// tables.
    pub const BYTES: usize =
        TINFL_LZ_DICT_SIZE + std::mem::size_of::<DecompressorOxide>() + std::mem::size_of::<Self>();
}

/// A gzip file read forward as the bytes it compresses.
pub struct Inflater {
    state: Snapshot,
    input: Vec<u8>,
    /// `input[lo..hi]` is unread; `state.in_pos` is the offset of
    /// `input[lo]`.
    lo: usize,
    hi: usize,
    /// A read found the end of the compressed file.
    eof: bool,
    /// Inflated bytes in the window not yet handed out: `dict[pending]`.
    pending: std::ops::Range<usize>,
}

fn corrupt(why: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("corrupt gzip: {why}"))
}

fn cut_short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "corrupt gzip: the file ends inside a member (truncated)",
    )
}

/// True for the errors this module gives for a file that is not valid
/// gzip (as opposed to a failed read).
pub fn is_corrupt(e: &io::Error) -> bool {
    e.to_string().starts_with("corrupt gzip")
}

impl Inflater {
    /// An inflater at the start of a gzip file.
    pub fn new() -> Inflater {
        Inflater::resume(Snapshot {
            stage: Stage::Header,
            in_pos: 0,
            out_pos: 0,
            decomp: Box::default(),
            dict: vec![0u8; TINFL_LZ_DICT_SIZE].into_boxed_slice(),
            dict_ofs: 0,
            crc: Crc32::default(),
            member_len: 0,
        })
    }

    /// An inflater that goes on from a snapshot.
    pub fn resume(state: Snapshot) -> Inflater {
        Inflater {
            state,
            input: Vec::new(),
            lo: 0,
            hi: 0,
            eof: false,
            pending: 0..0,
        }
    }

    /// The offset (in uncompressed bytes) of the next byte `read` gives.
    pub fn out_pos(&self) -> u64 {
        self.state.out_pos
    }

    /// Where the member being read began, in uncompressed bytes: what
    /// inflated before it was checked by its members' CRCs.
    pub fn member_start(&self) -> u64 {
        self.state.out_pos - self.state.member_len
    }

    /// The state now, when it can be taken (between two members, or inside
    /// one with every inflated byte handed out).
    pub fn snapshot(&self) -> Option<Snapshot> {
        (self.pending.is_empty() && matches!(self.state.stage, Stage::Header | Stage::Deflate))
            .then(|| self.state.clone())
    }

    /// Reads more compressed bytes; false at the end of the file.
    fn fill(&mut self, file: &File) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.input.is_empty() {
            self.input = vec![0u8; INPUT_BLOCK];
        }
        // Keep what is unread at the front.
        self.input.copy_within(self.lo..self.hi, 0);
        self.hi -= self.lo;
        self.lo = 0;
        if self.hi == self.input.len() {
            // A header longer than a block: grow, within bounds.
            if self.input.len() >= MAX_HEADER {
                return Err(corrupt("a member header longer than 256 KiB"));
            }
            self.input.resize(self.input.len() * 2, 0);
        }
        let at = self.state.in_pos + self.hi as u64;
        loop {
            match file.read_at(&mut self.input[self.hi..], at) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.hi += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.lo += n;
        self.state.in_pos += n as u64;
    }

    /// Reads the next inflated bytes into `buf`; 0 at the end of the last
    /// member. A corrupt or truncated file is an error (`is_corrupt`).
    pub fn read(&mut self, file: &File, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.pending.is_empty() {
                let n = buf.len().min(self.pending.len());
                let from = self.pending.start;
                let out = &self.state.dict[from..from + n];
                buf[..n].copy_from_slice(out);
                self.state.crc.update(out);
                self.state.member_len += n as u64;
                self.state.out_pos += n as u64;
                self.pending.start += n;
                if self.pending.is_empty() {
                    self.state.dict_ofs = self.pending.end & (TINFL_LZ_DICT_SIZE - 1);
                }
                return Ok(n);
            }
            match self.state.stage {
                Stage::Done => return Ok(0),
                Stage::Header => self.header(file)?,
                Stage::Deflate => self.inflate(file)?,
                Stage::Trailer => self.trailer(file)?,
            }
        }
    }

    fn header(&mut self, file: &File) -> io::Result<()> {
        loop {
            let b = &self.input[self.lo..self.hi];
            // Past the first member (a snapshot is never taken inside a
            // header, so a header stage past offset 0 follows a trailer).
            let after_member = self.state.in_pos > 0;
            if after_member && !b.is_empty() && b[0] != 0x1f {
                // After the last member: what gzip calls trailing garbage
                // (often zeros a tape or a block device added); it is
                // ignored, as `gzip -d` does.
                self.state.stage = Stage::Done;
                return Ok(());
            }
            match header_len(b) {
                Ok(Some(n)) => {
                    self.consume(n);
                    self.state.stage = Stage::Deflate;
                    self.state.decomp.init();
                    self.state.dict_ofs = 0;
                    self.state.crc = Crc32::default();
                    self.state.member_len = 0;
                    return Ok(());
                }
                Err(why) => return Err(corrupt(why)),
                Ok(None) => {
                    if !self.fill(file)? {
                        if after_member && self.lo == self.hi {
                            self.state.stage = Stage::Done;
                            return Ok(());
                        }
                        return Err(cut_short());
                    }
                }
            }
        }
    }

    fn inflate(&mut self, file: &File) -> io::Result<()> {
        if self.lo == self.hi {
            self.fill(file)?;
        }
        let mut flags = inflate_flags::TINFL_FLAG_IGNORE_ADLER32;
        if !self.eof {
            flags |= inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
        }
        let ofs = self.state.dict_ofs;
        let (status, used, written) = decompress(
            &mut self.state.decomp,
            &self.input[self.lo..self.hi],
            &mut self.state.dict,
            ofs,
            flags,
        );
        self.consume(used);
        self.pending = ofs..ofs + written;
        match status {
            TINFLStatus::Done => self.state.stage = Stage::Trailer,
            // More input is read, or the window handed out, on the next call.
            TINFLStatus::NeedsMoreInput | TINFLStatus::HasMoreOutput => {}
            TINFLStatus::FailedCannotMakeProgress => {
                self.pending = 0..0;
                return Err(cut_short());
            }
            _ => {
                self.pending = 0..0;
                return Err(corrupt("the deflate data does not inflate"));
            }
        }
        if self.pending.is_empty() {
            self.state.dict_ofs = ofs;
        }
        Ok(())
    }

    fn trailer(&mut self, file: &File) -> io::Result<()> {
        while self.hi - self.lo < 8 {
            if !self.fill(file)? {
                return Err(cut_short());
            }
        }
        let t = &self.input[self.lo..self.lo + 8];
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if crc != self.state.crc.value() {
            return Err(corrupt("CRC-32 mismatch"));
        }
        if size != self.state.member_len as u32 {
            return Err(corrupt("length mismatch"));
        }
        self.consume(8);
        self.state.stage = Stage::Header;
        Ok(())
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater::new()
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
