//! A first end-to-end check: the tail over WebSocket in both formats.
use crate::common::*;
use std::time::Duration;

#[test]
fn tail_text_and_html() {
    let dir = TempDir::new("smoke");
    let f = dir.join("a.log");
    std::fs::write(&f, "one\ntwo\n\x1b[31mred\x1b[0m <b>\n").unwrap();
    let s = Server::rooted(dir.path(), &[]);
    let (text, code) = s
        .ws(&f, "?format=text&lines=2")
        .text_to_close(Duration::from_secs(10));
    assert_eq!(text, "two\n\x1b[31mred\x1b[0m <b>\n");
    assert_eq!(code, Some(1000));
    let (html, _) = s.ws(&f, "?lines=1").text_to_close(Duration::from_secs(10));
    assert_eq!(html, "<span style=\"color:#cd0000\">red</span> &lt;b&gt;\n");
}
