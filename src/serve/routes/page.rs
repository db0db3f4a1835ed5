//! The viewer page: an HTML file and the scripts and style it loads, all
//! embedded in the binary (`src/page/`). The HTML is rendered once with the
//! `--base-path` prefix and a small configuration (what the page would
//! otherwise copy from the server: `--max-lines`, the status phrases, the
//! compressions it recognises); the other files are served as they are
//! under `/?asset=NAME`, with an ETag. A Content-Security-Policy of
//! `'self'` lets the page run no script and apply no style but these files
//! (nothing inline: no hash, no nonce), and connect back only to its own
//! origin. None of it holds log data, so it is served without a token (the
//! page asks for one when the server wants it).

use std::io::Write;

use crate::cli::config::ServeConfig;
use crate::serve::http::{self, Answer, Request};
use crate::wire::meta::write_string;
use crate::wire::refusal::{Kind, Refusal};

const VIEWER: &str = include_str!("../../page/index.html");

/// The files the page loads: name, type, content.
const ASSETS: [(&str, &str, &str); 12] = [
    ("style.css", CSS, include_str!("../../page/style.css")),
    ("theme.js", JS, include_str!("../../page/theme.js")),
    ("main.js", JS, include_str!("../../page/main.js")),
    ("util.js", JS, include_str!("../../page/util.js")),
    ("picker.js", JS, include_str!("../../page/picker.js")),
    ("viewer.js", JS, include_str!("../../page/viewer.js")),
    ("view.js", JS, include_str!("../../page/view.js")),
    ("stream.js", JS, include_str!("../../page/stream.js")),
    ("history.js", JS, include_str!("../../page/history.js")),
    ("controls.js", JS, include_str!("../../page/controls.js")),
    ("legend.js", JS, include_str!("../../page/legend.js")),
    ("strip.js", JS, include_str!("../../page/strip.js")),
];
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// What the page may do: run the scripts and apply the style this server
/// serves (`/?asset=`), connect back to its own origin (`'self'` covers
/// `ws:`/`wss:` to the same host), show its `data:` icon, nothing else.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The statuses whose phrase the page may show (those the server answers).
const STATUSES: [u16; 15] = [
    400, 401, 403, 404, 405, 408, 410, 415, 416, 422, 426, 431, 500, 503, 304,
];

/// The page with the base path and the configuration filled in
/// (`--base-path` is checked to hold only URL-safe characters, so it needs
/// no escaping here; the configuration is JSON with `<` escaped, so that it
/// cannot end its `<script type="application/json">` element).
pub fn render(cfg: &ServeConfig) -> String {
    VIEWER
        .replace(
            "__WSTAIL_CONFIG__",
            &config_json(cfg).replace('<', "\\u003c"),
        )
        .replace("__WSTAIL_BASE__", &cfg.base_path)
}

/// `{"maxLines":N,"phrases":{"400":"Bad Request",…},"compressions":[{"name":"gzip","magic":[31,139]},…]}`.
fn config_json(cfg: &ServeConfig) -> String {
    let mut out = format!("{{\"maxLines\":{},\"phrases\":{{", cfg.max_lines);
    for (i, status) in STATUSES.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("\"{status}\":"));
        let _ = write_string(&mut out, http::reason_phrase(*status));
    }
    out.push_str("},\"compressions\":[");
    for (i, (magic, name)) in crate::follow::compressed::MAGIC.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        let _ = write_string(&mut out, name.as_str());
        let bytes: Vec<String> = magic.iter().map(u8::to_string).collect();
        out.push_str(&format!(",\"magic\":[{}]}}", bytes.join(",")));
    }
    out.push_str("]}");
    out
}

/// Sends the page and says what was answered.
/// `status` is the one the WebSocket request for the same path would get.
pub fn serve(out: &mut impl Write, page: &str, status: u16, head_only: bool) -> Answer {
    let mut answer = Answer::new(status, "served the page");
    let extra = [
        format!("Content-Security-Policy: {CSP}"),
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

/// One of the page's files (`/?asset=NAME`): 200 with its ETag, 304 when
/// the browser holds that version already (`If-None-Match`), 404 for a name
/// that is not one of them. The browser asks again each time (`no-cache`),
/// so a new binary's files are taken at once.
pub fn serve_asset(
    out: &mut impl Write,
    req: &Request,
    name: &str,
    head_only: bool,
) -> Result<Answer, Refusal> {
    let Some(&(_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return Err(Refusal::new(Kind::NotFound, "no such asset of the page"));
    };
    let etag = etag(body);
    let fresh = req
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let extra = [
        format!("ETag: {etag}"),
        "Cache-Control: no-cache".to_string(),
    ];
    let (status, body) = if fresh { (304, "") } else { (200, body) };
    let mut answer = Answer::new(status, format!("served the page's {name}"));
    let written = if status == 304 {
        http::write_head(out, 304, content_type, 0, &extra).and_then(|()| out.flush())
    } else {
        http::write_response(out, 200, content_type, body.as_bytes(), &extra, head_only)
    };
    if let Err(e) = written {
        return Ok(answer.cut_short(&e));
    }
    if !head_only {
        answer.sent = body.len() as u64;
    }
    Ok(answer)
}

/// A strong validator of an asset's content: its FNV-1a 64 (a check that
/// the bytes changed, not a security measure: the content is ours).
fn etag(body: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in body.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every script and style the page loads is an asset the server
    /// serves, and every asset is loaded (by the page or a module import).
    #[test]
    fn the_page_loads_exactly_the_served_assets() {
        let mut loaded: Vec<&str> = Vec::new();
        let sources = std::iter::once(VIEWER).chain(ASSETS.iter().map(|(_, _, b)| *b));
        for text in sources {
            for piece in text.split("?asset=").skip(1) {
                let end = piece
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
                    .unwrap_or(piece.len());
                if piece[..end].contains('.') {
                    loaded.push(&piece[..end]);
                }
            }
        }
        for (name, _, _) in ASSETS {
            assert!(loaded.contains(&name), "{name} is served but never loaded");
        }
        for name in &loaded {
            assert!(
                ASSETS.iter().any(|(n, _, _)| n == name),
                "{name} is loaded but not served"
            );
        }
    }

    /// Nothing inline: no script element with content, no style element,
    /// no style attribute, no event handler attribute — the policy would
    /// block each of them.
    #[test]
    fn the_page_holds_nothing_the_policy_blocks() {
        let (_, html) = VIEWER.split_once("-->").unwrap_or_default();
        assert!(!html.contains("<style"));
        assert!(!html.contains(" style="));
        let handler = html.split(" on").skip(1).any(|rest| {
            let name = rest.trim_start_matches(|c: char| c.is_ascii_lowercase());
            name.len() < rest.len() && name.starts_with('=')
        });
        assert!(!handler, "an event handler attribute");
        for piece in html.split("<script").skip(1) {
            let (attrs, rest) = piece.split_once('>').unwrap_or_default();
            let body = rest.split("</script>").next().unwrap_or_default();
            assert!(
                attrs.contains("src=") && body.is_empty() || attrs.contains("application/json"),
                "an inline script: <script{attrs}>"
            );
        }
        for (name, _, body) in ASSETS {
            assert!(!body.contains("innerHTML"), "{name} writes HTML");
            assert!(!body.contains("insertAdjacentHTML"), "{name} writes HTML");
            assert!(
                !body.contains("setAttribute('style'"),
                "{name} sets a style attribute"
            );
        }
        assert!(CSP.contains("script-src 'self';"), "{CSP}");
        assert!(CSP.contains("style-src 'self';"), "{CSP}");
        assert!(CSP.contains("connect-src 'self';"), "{CSP}");
        assert!(!CSP.contains("unsafe"), "{CSP}");
        assert!(!CSP.contains("sha256"), "{CSP}");
    }

    #[test]
    fn the_configuration_comes_from_the_server() {
        let cfg = match crate::cli::parse(
            ["serve", "--max-lines", "777", "--base-path", "/logs"]
                .iter()
                .map(Into::into)
                .collect(),
        ) {
            Ok(crate::cli::Command::Serve(cfg)) => cfg,
            other => panic!("{other:?}"),
        };
        let json = config_json(&cfg);
        assert!(json.starts_with("{\"maxLines\":777,"), "{json}");
        assert!(json.contains("\"410\":\"Gone\""), "{json}");
        assert!(json.contains("\"422\":\"Unprocessable Content\""), "{json}");
        assert!(
            json.contains("{\"name\":\"gzip\",\"magic\":[31,139]}"),
            "{json}"
        );
        assert!(!json.contains("Unknown"), "{json}");
        let page = render(&cfg);
        assert!(!page.contains("__WSTAIL_"), "every placeholder filled");
        assert!(page.contains(&json), "the page carries it");
        assert!(
            page.contains("src=\"/logs/?asset=main.js\""),
            "the base path"
        );
    }

    #[test]
    fn an_asset_is_served_with_its_type_and_etag_and_304_when_fresh() {
        let get = |extra: &str| {
            let head = format!("GET /?asset=util.js HTTP/1.1\r\nHost: x\r\n{extra}\r\n");
            let req = http::parse_head(head.as_bytes(), vec![]).unwrap();
            let mut out = Vec::new();
            let answer = serve_asset(&mut out, &req, "util.js", false).unwrap();
            (answer, String::from_utf8(out).unwrap())
        };
        let (answer, text) = get("");
        assert_eq!(answer.status, 200);
        assert!(text.contains("Content-Type: text/javascript; charset=utf-8\r\n"));
        assert!(text.contains("Cache-Control: no-cache\r\n"), "{text}");
        assert!(!text.contains("no-store"), "{text}");
        assert!(text.contains("export function splitFragment"));
        let tag = text
            .lines()
            .find_map(|l| l.strip_prefix("ETag: "))
            .unwrap()
            .to_string();
        let (answer, text) = get(&format!("If-None-Match: {tag}\r\n"));
        assert_eq!(answer.status, 304, "{text}");
        assert!(text.ends_with("\r\n\r\n"), "no body: {text}");
        let (answer, _) = get("If-None-Match: \"0000000000000000\"\r\n");
        assert_eq!(answer.status, 200);
        let req = http::parse_head(b"GET /?asset=x HTTP/1.1\r\n\r\n", vec![]).unwrap();
        let refused = serve_asset(&mut Vec::new(), &req, "../index.html", false);
        assert!(refused.is_err_and(|r| r.status() == 404));
    }

    /// File names are shown through `shownName` (controls and bidi marks
    /// escaped) in the picker, the file name, the title, the download
    /// links and the separators between generations.
    #[test]
    fn file_names_are_shown_escaped() {
        let all: String = ASSETS.iter().map(|(_, _, b)| *b).collect();
        for raw in [
            "a.textContent = f.path;",
            "textContent = filePath;",
            ".title = filePath;",
            "document.title = filePath",
            "+ filePath.split('/').pop();",
            "'— above: ' + t.gen",
            "'— above: ' + p.path",
            "S.why.split('/').pop()",
        ] {
            assert!(!all.contains(raw), "a name shown raw: {raw}");
        }
        assert!(all.matches("shownName(").count() >= 8);
    }
}
