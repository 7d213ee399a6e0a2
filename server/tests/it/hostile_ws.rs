//! WebSocket endpoints against a hostile peer: floods of pings and binary frames on `/ws`,
//! too many connections from one address, too many rooms and joins on one connection,
//! HTTP/1.0 handshakes, and the end of TCP after a close handshake. Each is refused with a
//! clear answer while other clients carry on.

use crate::raw::*;
use crate::util::*;
use serde_json::json;
use std::time::Duration;
use tandem_server::Config;
use tandem_shared::{ErrorCode, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SHORT: Duration = Duration::from_secs(5);

/// Flood `ws` with `n` frames of `opcode` in one write, then read everything the server sends
/// back until it closes: (frames of each opcode by count, the JSON messages, the close code).
async fn flood(ws: &mut RawWs, opcode: u8, n: usize) -> (usize, Vec<ServerMsg>, Option<u16>) {
    let one = frame(opcode, b"x");
    let all: Vec<u8> = one.iter().copied().cycle().take(one.len() * n).collect();
    // The server may close before it has read everything: a failed write is expected.
    let _ = ws.stream.write_all(&all).await;
    let (mut answers, mut texts) = (0, Vec::new());
    let answer = if opcode == OP_PING { OP_PONG } else { OP_TEXT };
    loop {
        match ws.next(SHORT).await {
            None => return (answers, texts, None),
            Some(f) if f.opcode == OP_CLOSE => return (answers, texts, f.close_code()),
            Some(f) if f.opcode == OP_TEXT => {
                let msg: ServerMsg = serde_json::from_slice(&f.payload).unwrap();
                if opcode == OP_TEXT || error_code(&msg) != Some(ErrorCode::InvalidMessage) {
                    texts.push(msg);
                } else {
                    answers += 1;
                }
            }
            Some(f) if f.opcode == answer => answers += 1,
            Some(_) => {}
        }
    }
}

#[tokio::test]
async fn a_ping_flood_is_rate_limited_and_closed_with_1008() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await; // burst 100, 20/s
    let mut other = server.connect().await;
    other.join("lobby", "Other").await;
    let mut ws = RawWs::open(server.addr, "/ws").await;
    let (pongs, texts, close) = flood(&mut ws, OP_PING, 20_000).await;
    eprintln!("FIGURES: 20000 pings -> {pongs} pongs, close {close:?}");
    assert!(
        (90..=130).contains(&pongs),
        "about a burst of pongs, not one per ping: {pongs}"
    );
    let limited = texts
        .iter()
        .filter(|m| error_code(m) == Some(ErrorCode::RateLimited))
        .count();
    assert!((1..=3).contains(&limited), "told once per run: {texts:?}");
    assert_eq!(close, Some(1008));
    // The other connection never noticed.
    other.chat("lobby", "still here").await;
    other
        .recv_until(|m| chat_text(m).is_some_and(|c| c.2 == "still here"))
        .await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn binary_frames_count_against_the_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut ws = RawWs::open(server.addr, "/ws").await;
    let (errors, texts, close) = flood(&mut ws, OP_BINARY, 2_000).await;
    assert!(
        (90..=130).contains(&errors),
        "one invalid_message per binary frame allowed: {errors}"
    );
    assert!(texts
        .iter()
        .any(|m| error_code(m) == Some(ErrorCode::RateLimited)));
    assert_eq!(close, Some(1008));
    server.stop().await.unwrap();
}

/// Open a WebSocket on `path` as `Host: addr` with extra header lines; the refusal's status.
async fn try_open(server: &TestServer, path: &str, extra: &str) -> Result<RawWs, u16> {
    RawWs::connect(server.addr, path, &server.addr.to_string(), extra).await
}

#[tokio::test]
async fn connections_per_address_are_capped_with_429() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Config {
        max_conns_per_addr: 3,
        ..Config::for_tests(dir.path())
    })
    .await;
    // `/ws` and `/yjs` share the count; X-Forwarded-For means nothing without the flag.
    let a = try_open(&server, "/ws", "").await.unwrap();
    let _b = try_open(&server, "/yjs/pad", "").await.unwrap();
    let _c = try_open(&server, "/ws", "\r\nX-Forwarded-For: 203.0.113.1")
        .await
        .unwrap();
    assert_eq!(try_open(&server, "/ws", "").await.err(), Some(429));
    assert_eq!(try_open(&server, "/yjs/pad", "").await.err(), Some(429));
    let spoof = "\r\nX-Forwarded-For: 198.51.100.7";
    assert_eq!(try_open(&server, "/ws", spoof).await.err(), Some(429));
    // Plain HTTP is not counted.
    assert_eq!(get(server.addr, "/healthz", "127.0.0.1", "").await, 200);
    // A connection that ends gives its place back.
    drop(a);
    let deadline = tokio::time::Instant::now() + SHORT;
    while try_open(&server, "/ws", "").await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "place given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn behind_a_proxy_the_forwarded_address_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Config {
        max_conns_per_addr: 1,
        trust_forwarded_for: true,
        ..Config::for_tests(dir.path())
    })
    .await;
    let xff = |list: &str| format!("\r\nX-Forwarded-For: {list}");
    let _one = try_open(&server, "/ws", &xff("203.0.113.1")).await.unwrap();
    assert_eq!(
        try_open(&server, "/ws", &xff("203.0.113.1")).await.err(),
        Some(429)
    );
    // Another client behind the same proxy has its own count...
    let _two = try_open(&server, "/ws", &xff("203.0.113.2")).await.unwrap();
    // ...and what a client writes before the proxy's entry does not count.
    assert_eq!(
        try_open(&server, "/ws", &xff("198.51.100.9, 203.0.113.2"))
            .await
            .err(),
        Some(429)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn rooms_per_connection_are_capped_and_the_connection_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Config {
        max_rooms_per_conn: 3,
        // The joins' own limit (a burst of 3) is another test's: here it would refuse the
        // fast re-joins below as `rate_limited`.
        joins_per_sec: 0,
        ..Config::for_tests(dir.path())
    })
    .await;
    let mut c = server.connect().await;
    for room in ["a", "b", "c"] {
        c.join(room, "Ada").await;
    }
    c.send_json(json!({"type": "join", "room": "d", "name": "Ada"}))
        .await;
    match c.recv().await {
        ServerMsg::Error {
            code: ErrorCode::TooManyRooms,
            message,
            room,
            ..
        } => {
            assert_eq!(room.as_deref(), Some("d"));
            assert!(message.contains("at most 3"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    c.sync().await;
    // Re-joining a room it is in is not one more; after leaving one, another fits.
    c.join("a", "Ada").await;
    c.send_json(json!({"type": "leave", "room": "b"})).await;
    c.recv_until(|m| matches!(m, ServerMsg::Left { .. })).await;
    c.join("d", "Ada").await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn joins_per_second_are_limited_with_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Config {
        max_rooms_per_conn: 4,
        joins_per_sec: 2,
        ..Config::for_tests(dir.path())
    })
    .await;
    let mut c = server.connect().await;
    // A burst of the rooms cap: a page that reconnects rejoins every room at once.
    for room in ["a", "b", "c", "d"] {
        c.join(room, "Ada").await;
    }
    c.send_json(json!({"type": "join", "room": "a", "name": "Ada"}))
        .await;
    let refused = c.recv().await;
    assert_eq!(
        error_code(&refused),
        Some(ErrorCode::RateLimited),
        "{refused:?}"
    );
    assert!(matches!(refused, ServerMsg::Error { room: Some(ref r), .. } if r == "a"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    c.join("a", "Ada").await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_http_1_0_upgrade_gets_400() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    for path in ["/ws", "/yjs/pad", "/echo"] {
        let head = format!("GET {path} HTTP/1.0\r\nHost: {}{UPGRADE}", server.addr);
        let (status, head, ..) = request(server.addr, &head).await;
        assert_eq!(status, 400, "{path}: {head}");
        assert!(try_open(&server, path, "").await.is_ok(), "HTTP/1.1 works");
    }
    server.stop().await.unwrap();
}

/// The close handshake and then the end of TCP: how long the server takes to close.
async fn close_to_eof(ws: &mut RawWs, client_starts: bool) -> (Option<u16>, Duration) {
    let code = if client_starts {
        ws.send(OP_CLOSE, &close_payload(1000, "bye")).await;
        ws.until_close(SHORT).await.and_then(|f| f.close_code())
    } else {
        let code = ws.until_close(SHORT).await.and_then(|f| f.close_code());
        ws.send(OP_CLOSE, &close_payload(code.unwrap_or(1000), ""))
            .await;
        code
    };
    (code, ws.time_to_eof(SHORT).await)
}

#[tokio::test]
async fn the_server_closes_tcp_promptly_after_the_close_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut times = Vec::new();
    for path in ["/ws", "/yjs/pad", "/echo"] {
        let mut ws = RawWs::open(server.addr, path).await;
        let (code, took) = close_to_eof(&mut ws, true).await;
        assert_eq!(code, Some(1000), "{path}: the echo of our close");
        times.push((path, "client closes", took));
    }
    // The server starts: a text frame on /yjs (1003), invalid UTF-8 on /ws (1007).
    let mut ws = RawWs::open(server.addr, "/yjs/pad").await;
    ws.send(OP_TEXT, b"hello").await;
    let (code, took) = close_to_eof(&mut ws, false).await;
    assert_eq!(code, Some(1003));
    times.push(("/yjs/pad", "server closes", took));
    let mut ws = RawWs::open(server.addr, "/ws").await;
    ws.send(OP_TEXT, &[b'{', 0xff, b'}']).await;
    let (code, took) = close_to_eof(&mut ws, false).await;
    assert_eq!(code, Some(1007));
    times.push(("/ws", "server closes", took));
    eprintln!("FIGURES: close handshake to EOF: {times:?}");
    for (path, who, took) in times {
        assert!(
            took < Duration::from_millis(100),
            "{path}, {who}: TCP closed {took:?} after the handshake"
        );
    }
    server.stop().await.unwrap();
}

/// When the server starts the close, it keeps TCP open for the client's answering close
/// frame (up to a second), so that what the client still sends cannot turn the server's close
/// frame into a reset the client never reads (browsers then report 1006, not our code).
#[tokio::test]
async fn a_server_started_close_waits_for_the_clients_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    // As above: a text frame on /yjs (1003), invalid UTF-8 on /ws (1007).
    for (path, bad, expected) in [
        ("/yjs/pad", &b"hello"[..], 1003),
        ("/ws", &[b'{', 0xff, b'}'][..], 1007),
    ] {
        let mut ws = RawWs::open(server.addr, path).await;
        ws.send(OP_TEXT, bad).await;
        let code = ws.until_close(SHORT).await.and_then(|f| f.close_code());
        assert_eq!(code, Some(expected), "{path}");
        // The client takes 300 ms to answer: meanwhile the connection stays open.
        let mut chunk = [0; 64];
        let read = tokio::time::timeout(Duration::from_millis(300), ws.stream.read(&mut chunk));
        assert!(
            read.await.is_err(),
            "{path}: the server ended TCP before the client answered its close"
        );
        ws.send(OP_CLOSE, &close_payload(expected, "")).await;
        let took = ws.time_to_eof(SHORT).await;
        assert!(
            took < Duration::from_millis(100),
            "{path}: TCP closed {took:?} after the client's answer"
        );
    }
    server.stop().await.unwrap();
}
