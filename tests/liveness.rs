//! Heartbeats, closes and stalls: a client that answers nothing is dropped
//! in time, one that answers (with Pong frames, or the original protocol's
//! text `pong`) stays; a Close ends the connection's thread at once; a
//! client that takes no data is dropped after the stall timeout; a client
//! message over 4 KiB ends the connection.
use crate::common::*;
use std::time::{Duration, Instant};
use tungstenite::Message;

/// Heartbeats every second, a second to answer, a short interval.
const HEARTBEAT_1S: &[&str] = &[
    "--heartbeat",
    "1",
    "--pong-timeout",
    "1",
    "--interval",
    "0.2",
];

fn setup(tag: &str, extra: &[&str]) -> (TempDir, std::path::PathBuf, Server) {
    let dir = TempDir::new(tag);
    let f = dir.join("live.log");
    std::fs::write(&f, "start\n").unwrap();
    let s = Server::rooted(dir.path(), extra);
    (dir, f, s)
}

#[test]
fn a_client_that_never_answers_is_closed_in_time() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("hb-silent", HEARTBEAT_1S);
    let (threads_before, _) = threads_and_fds(s.pid());
    let ws = s.ws(&f, "?tail=1");
    // Never read: tungstenite answers Pings only when reading.
    let t = Instant::now();
    assert!(
        s.wait_log("no pong within 1.0s", Duration::from_secs(6)),
        "{}",
        s.log()
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(1500),
        "closed too early: {took:?}"
    );
    assert!(wait_until(Duration::from_secs(3), || threads_and_fds(
        s.pid()
    )
    .0 <= threads_before));
    drop(ws);
}

#[test]
fn a_client_that_answers_stays_connected() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("hb-answer", HEARTBEAT_1S);
    let mut ws = s.ws(&f, "?tail=1&format=text&lines=1");
    assert_eq!(ws.next(Duration::from_secs(3)), Got::Text("start\n".into()));
    // Reading answers each Ping with a Pong; stay well past several pings.
    assert_eq!(ws.next(Duration::from_secs(4)), Got::Timeout);
    append(&f, b"still here\n");
    assert_eq!(
        ws.next(Duration::from_secs(3)),
        Got::Text("still here\n".into())
    );
    assert!(!s.log().contains("no pong"), "{}", s.log());
}

#[test]
fn the_original_text_pong_keeps_a_client() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("hb-text", HEARTBEAT_1S);
    let mut ws = s.ws(&f, "?tail=1&format=text&lines=0");
    // Like the Python client: answer with a text "pong", never with a frame.
    for _ in 0..8 {
        ws.ws.send(Message::text("pong")).unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(!s.log().contains("no pong"), "{}", s.log());
    append(&f, b"after\n");
    assert_eq!(ws.next(Duration::from_secs(3)), Got::Text("after\n".into()));
}

#[test]
fn a_close_ends_the_thread_at_once() {
    let _w = watchdog(Duration::from_secs(60));
    // A long interval: the Close must not wait for it.
    let (_d, f, s) = setup("close", &["--interval", "30"]);
    let (before, _) = threads_and_fds(s.pid());
    let mut ws = s.ws(&f, "?tail=1&format=text");
    assert_eq!(ws.next(Duration::from_secs(3)), Got::Text("start\n".into()));
    assert_eq!(threads_and_fds(s.pid()).0, before + 1);
    let t = Instant::now();
    ws.ws.close(None).unwrap();
    ws.ws.flush().unwrap();
    assert!(wait_until(Duration::from_secs(5), || threads_and_fds(
        s.pid()
    )
    .0 == before));
    // Not after the 30 s interval: at once, with room for a loaded machine.
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(s.wait_log("closed by the client", Duration::from_secs(10)));
}

#[test]
fn a_client_message_over_4_kib_ends_the_connection() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("big-msg", &["--interval", "0.1"]);
    let mut ws = s.ws(&f, "?tail=1&format=text");
    assert_eq!(ws.next(Duration::from_secs(3)), Got::Text("start\n".into()));
    ws.ws.send(Message::text("x".repeat(5000))).unwrap();
    assert_eq!(ws.next(Duration::from_secs(3)), Got::Closed(Some(1009)));
    assert!(
        s.wait_log("over 4 KiB", Duration::from_secs(2)),
        "{}",
        s.log()
    );
}

#[test]
fn a_client_that_takes_no_data_is_dropped_after_30s() {
    let _w = watchdog(Duration::from_secs(120));
    let (_d, f, s) = setup("stall", &["--heartbeat", "0", "--interval", "0.1"]);
    let (before, _) = threads_and_fds(s.pid());
    let ws = s.ws(&f, "?tail=1&format=text");
    // Far more than the socket buffers hold, and the client never reads.
    let line = "x".repeat(1023) + "\n";
    let block = line.repeat(1024);
    for _ in 0..48 {
        append(&f, block.as_bytes());
    }
    // A download of the same 48 MiB that is never read is dropped too.
    let mut download = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    std::io::Write::write_all(
        &mut download,
        format!(
            "GET {}?download HTTP/1.1\r\nHost: localhost\r\n\r\n",
            url_path(&f)
        )
        .as_bytes(),
    )
    .unwrap();
    let t = Instant::now();
    assert!(
        s.wait_log("took no data for 30s", Duration::from_secs(60)),
        "{}",
        s.log()
    );
    assert!(
        s.wait_log("download; the client went away", Duration::from_secs(10)),
        "{}",
        s.log()
    );
    assert!(
        t.elapsed() >= Duration::from_secs(25),
        "dropped after {:?}",
        t.elapsed()
    );
    assert!(wait_until(Duration::from_secs(5), || threads_and_fds(
        s.pid()
    )
    .0 == before));
    drop(ws);
    drop(download);
}
