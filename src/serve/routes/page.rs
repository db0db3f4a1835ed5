//! The viewer page: one HTML file embedded in the binary, rendered once with
//! the `--base-path` prefix, served with a Content-Security-Policy that lets
//! it load nothing from anywhere else and run no script but its own (each
//! inline script allowed by its SHA-256, so no `'unsafe-inline'`). It holds
//! no log data, so it is served without a token (it asks for one when the
//! server wants it).

use std::io::Write;
use std::sync::OnceLock;

use crate::serve::http::{self, Answer};
use crate::wire::base64;

const VIEWER: &str = include_str!("../../page/index.html");

/// What the page may do: run its own inline scripts (by hash) and style,
/// connect back to its own origin (`'self'` covers `ws:`/`wss:` to the same
/// host), show its `data:` icon, nothing else.
pub fn csp(page: &str) -> String {
    let scripts: Vec<String> = inline_scripts(page)
        .map(|s| format!("'sha256-{}'", base64::encode(&sha256(s.as_bytes()))))
        .collect();
    format!(
        "default-src 'none'; script-src {}; style-src 'unsafe-inline'; connect-src 'self'; \
img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        scripts.join(" ")
    )
}

/// The text of each `<script>` element without attributes (the page's own).
fn inline_scripts(page: &str) -> impl Iterator<Item = &str> {
    page.split("<script>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</script>").map(|(s, _)| s))
}

/// The page with the base path filled in (`--base-path` is checked to hold
/// only URL-safe characters, so it needs no escaping here).
pub fn render(base_path: &str) -> String {
    VIEWER.replace("__WSTAIL_BASE__", base_path)
}

/// Sends the page and says what was answered.
/// `status` is the one the WebSocket request for the same path would get.
pub fn serve(out: &mut impl Write, page: &str, status: u16, head_only: bool) -> Answer {
    let mut answer = Answer::new(status, "served the page");
    let extra = [
        format!("Content-Security-Policy: {}", page_csp(page)),
        "Referrer-Policy: no-referrer".to_string(),
        "X-Frame-Options: DENY".to_string(),
    ];
    if let Err(e) = http::write_response(
        out,
        status,
        "text/html; charset=utf-8",
        page.as_bytes(),
        &extra,
        head_only,
    ) {
        return answer.cut_short(&e);
    }
    if !head_only {
        answer.sent = page.len() as u64;
    }
    answer
}

/// The policy of the page this process serves (one page per process: the
/// base path is fixed at start, and it lies outside the scripts).
fn page_csp(page: &str) -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| csp(page))
}

/// SHA-256 (FIPS 180-4), for the script hashes of the policy.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, x) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_matches_the_standard_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha256(&million)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    /// File names are shown through `shownName` (controls and bidi marks
    /// escaped) in the picker, the file name, the title and the download
    /// link; and `shownName` does that (run under node when it is there).
    #[test]
    fn file_names_are_shown_escaped() {
        for raw in [
            "a.textContent = f.path;",
            "textContent = filePath;",
            ".title = filePath;",
            "document.title = filePath",
            "+ filePath.split('/').pop();",
        ] {
            assert!(!VIEWER.contains(raw), "a name shown raw: {raw}");
        }
        assert!(VIEWER.matches("shownName(").count() >= 6);
        let Some(start) = VIEWER.find("function shownName(") else {
            panic!("no shownName in the page");
        };
        let body = &VIEWER[start..];
        let Some(end) = body.find("\n}\n") else {
            panic!("shownName does not end");
        };
        let script = format!(
            "{}\nprocess.stdout.write(shownName('x\\u202Egol.exe\\u001b[2J\\u0085\\u2067é ok'));",
            &body[..end + 2]
        );
        let Ok(out) = std::process::Command::new("node")
            .arg("-e")
            .arg(&script)
            .output()
        else {
            eprintln!("node is not installed: shownName's logic not run");
            return;
        };
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "x\\u{202e}gol.exe\\u{1b}[2J\\u{85}\\u{2067}é ok",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn the_policy_allows_exactly_the_page_scripts() {
        let page = render("/logs");
        let policy = csp(&page);
        let script_src = policy
            .split(';')
            .find(|d| d.trim_start().starts_with("script-src"))
            .unwrap_or_default();
        assert!(!script_src.contains("unsafe-inline"), "{script_src}");
        assert_eq!(script_src.matches("'sha256-").count(), 2, "{script_src}");
        assert!(policy.contains("connect-src 'self';"), "{policy}");
        // The hash of "alert(1)" as a browser computes it.
        assert_eq!(
            csp("<script>alert(1)</script>")
                .split(';')
                .nth(1)
                .unwrap_or_default(),
            " script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }
}
