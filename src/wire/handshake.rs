//! The one computation of the WebSocket opening handshake (RFC 6455, 4.1
//! and 4.2.2): `Sec-WebSocket-Accept` is the base64 of the SHA-1 of the
//! client's key followed by a fixed GUID, and a client's key is 16 random
//! bytes in base64. The server reads the request head itself (`http.rs`)
//! and the client writes its request and reads the answer itself
//! (`client/session.rs`); with these few lines here, tungstenite's
//! `handshake` feature — http, httparse, sha1, data-encoding and the
//! crates they bring, a dozen — is not needed.
//!
//! SHA-1 is no protection here, only the protocol's proof that the other
//! side speaks WebSocket, so a short plain implementation will do.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::wire::base64;

/// RFC 6455, 1.3.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for the client's `Sec-WebSocket-Key`.
pub fn derive_accept_key(key: &[u8]) -> String {
    let mut data = key.to_vec();
    data.extend_from_slice(GUID);
    base64::encode(&sha1(&data))
}

/// Whether a client's `Sec-WebSocket-Key` is what RFC 6455 (4.1) asks for:
/// 16 bytes in base64 — 22 base64 characters then `==` (the last of the 22
/// carrying only 2 bits, so its low 4 bits are zero).
pub fn valid_client_key(key: &str) -> bool {
    let k = key.as_bytes();
    if k.len() != 24 || !k.ends_with(b"==") {
        return false;
    }
    let value = |c: u8| base64::ALPHABET.iter().position(|&a| a == c);
    k[..22].iter().all(|&c| value(c).is_some()) && value(k[21]).is_some_and(|v| v & 0xf == 0)
}

/// A fresh `Sec-WebSocket-Key`: 16 bytes from the system's random source
/// (or, should it be unreadable, from the clock and the process id: the
/// key only has to differ between connections).
pub fn client_key() -> String {
    let mut nonce = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut nonce));
    if read.is_err() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mixed = sha1(format!("{now} {}", std::process::id()).as_bytes());
        nonce.copy_from_slice(&mixed[..16]);
    }
    base64::encode(&nonce)
}

/// SHA-1 (FIPS 180-4).
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_test_vectors() {
        // FIPS 180 examples, and lengths around the padding boundaries.
        let cases: &[(&[u8], &str)] = &[
            (b"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
            ),
            (
                b"The quick brown fox jumps over the lazy dog",
                "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(&sha1(input)), *want, "{input:?}");
        }
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha1(&million)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn the_rfc_example() {
        // RFC 6455, 1.3.
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn only_16_byte_keys_are_valid() {
        assert!(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(valid_client_key(&client_key()));
        for bad in [
            "",
            "x",
            "dGhlIHNhbXBsZSBub25jZQ",
            "dGhlIHNhbXBsZSBub25jZQ=",
            "dGhlIHNhbXBsZSBub25jZR==",
            "dGhlIHNhbXBsZSBub25j*Q==",
            "dGhlIHNhbXBsZSBub25jZQ==x",
            "dGhlIHNhbXBsZSBub25jZQ=?",
            "dGhlIHNhbXBsZSBub25jZQ1Z",
        ] {
            assert!(!valid_client_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn client_keys_are_16_bytes_and_differ() {
        let (a, b) = (client_key(), client_key());
        assert_eq!(a.len(), 24);
        assert!(a.ends_with("=="));
        assert_ne!(a, b);
    }
}
