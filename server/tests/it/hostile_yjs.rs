//! `/yjs` against a hostile peer: awareness that is not a JSON object, floods of awareness
//! and of document updates. The attacker is refused and closed; a stock-like reader (a
//! [`YClient`]) keeps syncing, sees only valid states, and is never cut off as a slow
//! consumer. A fast typist with a stock editor's awareness is never limited.

use crate::util::*;
use futures_util::SinkExt;
use std::path::Path;
use std::time::{Duration, Instant};
use tandem_server::{docs::TEXT, Config};
use tokio_tungstenite::tungstenite::Message;
use yrs::sync::{Message as YMessage, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Text, Transact};

/// Test defaults, with a heartbeat timeout long enough for clients that pause reading.
fn config(dir: &Path) -> Config {
    Config {
        heartbeat_ms: 500,
        client_timeout_ms: 10_000,
        ..Config::for_tests(dir)
    }
}

/// What a stock client does with a state: `JSON.parse`, then read fields of an object.
fn stock_client_takes(json: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(json).is_ok_and(|v| v.is_object() || v.is_null())
}

#[tokio::test]
async fn awareness_that_is_not_a_json_object_closes_the_sender_with_4400() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut reader = YClient::join(&server, "pad").await;
    reader.push("hello").await;
    let huge = format!(r#"{{"x":"{}"}}"#, "x".repeat(16 * 1024));
    for bad in [
        "not json",
        r#"{"user":"#,
        "42",
        r#""text""#,
        "[1,2]",
        "",
        &huge,
    ] {
        let mut attacker = YClient::join(&server, "pad").await;
        let id = attacker.client_id();
        attacker
            .set_awareness(id, 1, r#"{"user":{"name":"A"}}"#)
            .await;
        attacker.set_awareness(id, 2, bad).await;
        let closed = attacker.closed().await;
        let (code, reason) = closed.unwrap_or_else(|| panic!("a close frame for {bad:?}"));
        assert_eq!(code, 4400, "{bad:?}");
        assert!(reason.contains("awareness"), "{reason}");
    }
    // The reader kept every state a stock client can take, and nothing else.
    assert!(
        reader.drain(Duration::from_millis(300)).await,
        "reader open"
    );
    assert!(!reader.awareness.is_empty());
    for (id, (_, json)) in &reader.awareness {
        assert!(stock_client_takes(json), "{id}: {json:?}");
    }
    // A newcomer syncs, and is given no invalid state either.
    let mut newcomer = YClient::join(&server, "pad").await;
    assert_eq!(newcomer.text(), "hello");
    reader.push(" world").await;
    newcomer.until_text("hello world").await;
    for (id, (_, json)) in &newcomer.awareness {
        assert!(stock_client_takes(json), "{id}: {json:?}");
    }
    server.stop().await.unwrap();
}

/// What a reader saw of a flood of one client id's awareness.
#[derive(Debug)]
struct Seen {
    /// Frames carrying a state (not the removal) for that id.
    frames: usize,
    last_clock: Option<u32>,
    closed: Option<Closed>,
}

/// Read everything until the connection has been quiet for `quiet`.
async fn read_flood(mut reader: YClient, id: u64, quiet: Duration) -> (YClient, Seen) {
    let mut seen = Seen {
        frames: 0,
        last_clock: None,
        closed: None,
    };
    loop {
        match reader.next_within(quiet).await {
            None => break,
            Some(Ok(YMessage::Awareness(a))) => {
                if let Some(e) = a.clients.get(&ClientID::new(id)) {
                    if &*e.json != "null" {
                        seen.frames += 1;
                        seen.last_clock = Some(e.clock);
                    }
                }
            }
            Some(Ok(_)) => {}
            Some(Err(closed)) => {
                seen.closed = Some(closed);
                break;
            }
        }
    }
    (reader, seen)
}

/// Send `frames` as fast as the socket takes them, flushing every `every`, giving up once
/// the server has closed; returns how many were written.
async fn send_all(
    attacker: &mut YClient,
    frames: impl Iterator<Item = Vec<u8>>,
    every: usize,
) -> usize {
    let mut sent = 0;
    for bytes in frames {
        if attacker.ws.feed(Message::Binary(bytes)).await.is_err() {
            break;
        }
        sent += 1;
        if sent % every == 0 && attacker.ws.flush().await.is_err() {
            break;
        }
    }
    let _ = attacker.ws.flush().await;
    sent
}

fn awareness_msg(client: u64, clock: u32, json: &str) -> Vec<u8> {
    let mut clients = std::collections::HashMap::new();
    let entry = yrs::sync::awareness::AwarenessUpdateEntry {
        clock,
        json: json.into(),
    };
    clients.insert(ClientID::new(client), entry);
    YMessage::Awareness(yrs::sync::awareness::AwarenessUpdate { clients }).encode_v1()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_awareness_flood_is_coalesced_limited_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await; // 200 at once, 100/s, 2 MiB
    let reader = YClient::join(&server, "flood").await;
    let mut attacker = YClient::join(&server, "flood").await;
    let id = attacker.client_id();
    let read = tokio::spawn(read_flood(reader, id, Duration::from_secs(1)));
    // 10 MB of valid awareness for its own id: 10,000 states of 1000 bytes.
    let state = format!(r#"{{"x":"{}"}}"#, "x".repeat(992));
    let t0 = Instant::now();
    let frames = (1..=10_000).map(|clock| awareness_msg(id, clock, &state));
    let sent = send_all(&mut attacker, frames, 64).await;
    let took = t0.elapsed();
    // The server closes it (1008) while it is still sending, so what it sees may be a reset
    // instead (see `an_awareness_flood_is_dropped_then_closed_with_1008` for the code).
    let closed = attacker.closed().await;
    let (mut reader, seen) = read.await.unwrap();
    eprintln!(
        "FIGURES: awareness flood: {sent} of 10000 x 1000 B written in {took:?}; attacker closed {closed:?}; reader got {} frames with its state, last clock {:?}, closed {:?}",
        seen.frames, seen.last_clock, seen.closed
    );
    assert!(
        matches!(&closed, None | Some((1008, _))),
        "attacker: {closed:?}"
    );
    assert!(seen.closed.is_none(), "the reader is not cut off: {seen:?}");
    assert_eq!(
        reader.awareness.get(&id).map(|(_, json)| json.as_str()),
        Some("null"),
        "the attacker is gone"
    );
    // Coalesced: fewer frames than states up to the last one relayed. (That state's clock
    // is its place in the flood, not a count of states let through: after the burst one
    // state gets through per refill, whichever the server is reading then, so how far it
    // reaches depends on how fast the server reads; the limiter's arithmetic is tested in
    // `ws/ratelimit.rs`.)
    let last = seen
        .last_clock
        .expect("the reader saw the attacker's state");
    assert!(
        seen.frames < last as usize,
        "coalesced: {} frames",
        seen.frames
    );
    // The reader syncs on; a newcomer sees what it wrote.
    reader.push("after").await;
    let mut newcomer = YClient::join(&server, "flood").await;
    newcomer.until_text("after").await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalescing_alone_keeps_a_reader_through_a_10_mb_flood() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Config {
        doc_rate_per_sec: 0, // the rate limit off: only coalescing protects the reader
        ..config(dir.path())
    })
    .await;
    let reader = YClient::join(&server, "flood").await;
    let mut attacker = YClient::join(&server, "flood").await;
    let id = attacker.client_id();
    let read = tokio::spawn(read_flood(reader, id, Duration::from_secs(1)));
    let state = format!(r#"{{"x":"{}"}}"#, "x".repeat(992));
    let frames = (1..=10_000).map(|clock| awareness_msg(id, clock, &state));
    assert_eq!(send_all(&mut attacker, frames, 64).await, 10_000);
    let (_reader, seen) = read.await.unwrap();
    eprintln!(
        "FIGURES: rate limit off: 10000 states; reader got {} frames, last clock {:?}, closed {:?}",
        seen.frames, seen.last_clock, seen.closed
    );
    assert!(seen.closed.is_none(), "the reader is not cut off: {seen:?}");
    assert_eq!(seen.last_clock, Some(10_000), "the newest state arrives");
    assert!(seen.frames < 2_000, "coalesced: {} frames", seen.frames);
    assert!(attacker.drain(Duration::from_millis(100)).await);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_awareness_flood_is_dropped_then_closed_with_1008() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut reader = YClient::join(&server, "pad").await;
    let mut attacker = YClient::join(&server, "pad").await;
    let id = attacker.client_id();
    // 2,000 small states in one write (a burst of 200, then far more than a burst's worth
    // of refusals, even if a loaded machine takes seconds and the bucket refills meanwhile):
    // the server has all of it before it closes, so the close frame arrives intact.
    let frames = (1..=2000).map(|clock| awareness_msg(id, clock, "{}"));
    send_all(&mut attacker, frames, usize::MAX).await;
    assert_eq!(
        attacker.closed().await,
        Some((1008, "rate limit exceeded".into()))
    );
    assert!(
        reader.drain(Duration::from_millis(300)).await,
        "reader open"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_update_flood_closes_the_sender_with_1008() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut reader = YClient::join(&server, "pad").await;
    let mut attacker = YClient::join(&server, "pad").await;
    // 400 one-character edits, each its own update, in one write.
    let updates: Vec<Vec<u8>> = (0..400)
        .map(|i| {
            let text = attacker.doc.get_or_insert_text(TEXT);
            let mut txn = attacker.doc.transact_mut();
            text.insert(&mut txn, i, "u");
            let update = txn.encode_update_v1();
            YMessage::Sync(SyncMessage::Update(update)).encode_v1()
        })
        .collect();
    send_all(&mut attacker, updates.into_iter(), usize::MAX).await;
    assert_eq!(
        attacker.closed().await,
        Some((1008, "rate limit exceeded".into()))
    );
    // What was accepted before is stored and relayed in order; nothing after it.
    assert!(
        reader.drain(Duration::from_millis(500)).await,
        "reader open"
    );
    let len = reader.text().len();
    assert!((190..=260).contains(&len), "{len} edits accepted");
    let newcomer = YClient::join(&server, "pad").await;
    assert_eq!(newcomer.text(), reader.text());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_fast_typist_with_a_stock_editor_is_never_limited() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut reader = YClient::join(&server, "pad").await;
    let mut typist = YClient::join(&server, "pad").await;
    let id = typist.client_id();
    // A big paste first (512 KiB), then 2 s of a held key at 30 per second, each keystroke an
    // update and a cursor move (awareness), as y-websocket sends them.
    let paste = "p".repeat(512 * 1024);
    typist.push(&paste).await;
    let mut tick = tokio::time::interval(Duration::from_millis(33));
    for clock in 1..=60 {
        tick.tick().await;
        typist.push("k").await;
        let cursor = format!(r#"{{"user":{{"name":"T"}},"cursor":{clock}}}"#);
        typist.set_awareness(id, clock, &cursor).await;
    }
    let expected = format!("{paste}{}", "k".repeat(60));
    reader.until(|c| c.text().len() == expected.len()).await;
    assert_eq!(reader.text(), expected);
    assert!(
        typist.drain(Duration::from_millis(200)).await,
        "never closed"
    );
    server.stop().await.unwrap();
}
