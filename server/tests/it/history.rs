//! Scrollback: `history` pages back through a room's stored messages, across restarts and on
//! both stores; bad requests get errors naming the room and the connection lives on.

use crate::util::*;
use serde_json::{json, Value};
use std::path::Path;
use tandem_server::Config;
use tandem_shared::{
    limits::{HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX},
    ChatMessage, ErrorCode, ServerMsg,
};

/// Messages stored in the room the paging tests read.
const COUNT: u64 = 3000;

/// Test defaults with rate limiting off, so a test can post thousands of messages.
fn unlimited(dir: &Path) -> Config {
    let mut config = Config::for_tests(dir);
    config.rate_per_sec = 0;
    config
}

/// Post `m1` … `m{n}` to `room` (joined, and empty before), 100 at a time, each batch acked
/// before the next so neither side's buffers fill.
async fn fill(c: &mut Client, room: &str, n: u64) {
    for first in (1..=n).step_by(100) {
        let last = (first + 99).min(n);
        for i in first..=last {
            c.chat(room, &format!("m{i}")).await;
        }
        let acks = c.recv_chats((last - first + 1) as usize).await;
        let seqs: Vec<u64> = acks.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (first..=last).collect::<Vec<_>>());
    }
}

/// Send a `history` request and read the answer (nothing else is expected in between).
/// Send `request`; its answer (skipping presence and typing, which come on their own).
async fn ask(c: &mut Client, request: Value) -> ServerMsg {
    c.send_json(request).await;
    c.recv_until(|m| !matches!(m, ServerMsg::Presence { .. } | ServerMsg::Typing { .. }))
        .await
}

fn request(room: &str, before: Option<u64>, limit: Option<u64>) -> Value {
    let mut req = json!({"type": "history", "room": room});
    if let Some(before) = before {
        req["before"] = before.into();
    }
    if let Some(limit) = limit {
        req["limit"] = limit.into();
    }
    req
}

/// Page back from the end of `room` with `limit` until `has_more` is false, checking each
/// page: full (the clamped size) except the last, consecutive, ending just before the
/// previous one, `has_more` exactly while older messages remain. Returns every message,
/// oldest first, and the number of pages.
async fn page_back(c: &mut Client, room: &str, limit: Option<u64>) -> (Vec<ChatMessage>, usize) {
    let size = limit.map_or(HISTORY_PAGE_DEFAULT, |l| {
        l.min(HISTORY_PAGE_MAX.into()) as u32
    }) as usize;
    let mut all: Vec<ChatMessage> = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let reply = ask(c, request(room, before, limit)).await;
        let ServerMsg::History {
            room: r,
            messages,
            has_more,
        } = reply
        else {
            panic!("expected history, got {reply:?}");
        };
        pages += 1;
        assert_eq!(r, room);
        let (first, last) = match (messages.first(), messages.last()) {
            (Some(f), Some(l)) => (f.seq, l.seq),
            _ => panic!("empty page {pages} before {before:?}"),
        };
        assert_eq!(
            last + 1,
            before.unwrap_or(COUNT + 1),
            "no gap between pages"
        );
        assert_eq!(last - first + 1, messages.len() as u64, "consecutive seqs");
        assert_eq!(has_more, first > 1, "has_more iff older messages remain");
        if has_more {
            assert_eq!(messages.len(), size, "only the last page is short");
        } else {
            assert!(messages.len() <= size);
        }
        before = Some(first);
        all.splice(0..0, messages);
        if !has_more {
            return (all, pages);
        }
    }
}

/// Every seq 1..=COUNT exactly once, in order, each the message that was posted.
fn assert_complete(all: &[ChatMessage], room: &str) {
    let seqs: Vec<u64> = all.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=COUNT).collect::<Vec<_>>());
    for m in all {
        assert_eq!(m.room, room);
        assert_eq!(m.text, format!("m{}", m.seq));
        assert_eq!(m.sender.name, "Ada");
    }
}

fn pages_for(limit: u64) -> usize {
    COUNT.div_ceil(limit.min(HISTORY_PAGE_MAX.into())) as usize
}

#[tokio::test]
async fn pages_back_through_3000_messages_and_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(unlimited(dir.path())).await;
    let mut a = server.connect().await;
    a.join("lobby", "Ada").await;
    fill(&mut a, "lobby", COUNT).await;

    let (all, pages) = page_back(&mut a, "lobby", Some(100)).await;
    assert_complete(&all, "lobby");
    assert_eq!(pages, pages_for(100));
    // A limit above the cap is clamped to it.
    let (clamped, pages) = page_back(&mut a, "lobby", Some(1000)).await;
    assert_eq!(pages, pages_for(1000));
    assert_eq!(clamped, all);
    let config = server.config.clone();
    server.stop().await.unwrap();

    let server = TestServer::start(config).await;
    let mut b = server.connect().await;
    let ServerMsg::Joined { last_seq, .. } = b.join("lobby", "Bob").await else {
        unreachable!()
    };
    assert_eq!(last_seq, COUNT);
    let (after, pages) = page_back(&mut b, "lobby", Some(100)).await;
    assert_eq!(pages, pages_for(100));
    assert_eq!(after, all, "the same messages after a restart");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn pages_back_on_the_memory_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = unlimited(dir.path());
    config.memory_store = true;
    let server = TestServer::start(config).await;
    let mut a = server.connect().await;
    a.join("lobby", "Ada").await;
    fill(&mut a, "lobby", COUNT).await;
    let (all, pages) = page_back(&mut a, "lobby", Some(100)).await;
    assert_complete(&all, "lobby");
    assert_eq!(pages, pages_for(100));
    // Without `limit`, pages hold the default.
    let (default, pages) = page_back(&mut a, "lobby", None).await;
    assert_eq!(pages, COUNT.div_ceil(HISTORY_PAGE_DEFAULT.into()) as usize);
    assert_eq!(default, all);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn empty_rooms_and_edges() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(unlimited(dir.path())).await;
    let mut a = server.connect().await;
    a.join("lobby", "Ada").await;
    let empty = |has_more| ServerMsg::History {
        room: "lobby".into(),
        messages: vec![],
        has_more,
    };
    assert_eq!(
        ask(&mut a, request("lobby", None, None)).await,
        empty(false)
    );
    assert_eq!(
        ask(&mut a, request("lobby", Some(5), None)).await,
        empty(false)
    );
    fill(&mut a, "lobby", 5).await;

    let seqs = |m: ServerMsg| match m {
        ServerMsg::History {
            messages, has_more, ..
        } => (messages.iter().map(|m| m.seq).collect::<Vec<_>>(), has_more),
        other => panic!("expected history, got {other:?}"),
    };
    assert_eq!(
        seqs(ask(&mut a, request("lobby", Some(1), None)).await),
        (vec![], false)
    );
    assert_eq!(
        seqs(ask(&mut a, request("lobby", Some(3), None)).await),
        (vec![1, 2], false)
    );
    assert_eq!(
        seqs(ask(&mut a, request("lobby", Some(u64::MAX), Some(2))).await),
        (vec![4, 5], true),
        "a `before` past the end reads from the end"
    );
    assert_eq!(
        seqs(ask(&mut a, request("lobby", None, Some(1))).await),
        (vec![5], true)
    );
    assert_eq!(
        seqs(ask(&mut a, request("lobby", None, None)).await),
        ((1..=5).collect(), false)
    );
    server.stop().await.unwrap();
}

/// The code, message and room of an error reply.
fn error_of(m: ServerMsg) -> (ErrorCode, String, Option<String>) {
    match m {
        ServerMsg::Error {
            code,
            message,
            room,
            ..
        } => (code, message, room),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_history_requests_get_errors_and_the_connection_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(unlimited(dir.path())).await;
    let mut a = server.connect().await;
    let lobby = Some("lobby".to_owned());

    let (code, _, room) = error_of(ask(&mut a, request("lobby", None, None)).await);
    assert_eq!((code, room), (ErrorCode::NotJoined, lobby.clone()));

    a.join("lobby", "Ada").await;
    fill(&mut a, "lobby", 3).await;
    let (code, message, room) = error_of(ask(&mut a, request("lobby", None, Some(0))).await);
    assert_eq!((code, room), (ErrorCode::InvalidMessage, lobby.clone()));
    assert!(message.contains("limit"), "{message}");
    let (code, message, room) = error_of(ask(&mut a, request("lobby", Some(0), None)).await);
    assert_eq!((code, room), (ErrorCode::InvalidMessage, lobby.clone()));
    assert!(message.contains("before"), "{message}");
    // Wrong types fail in the codec, before the room is known: serde's message, no room.
    for (bad, says) in [
        (
            json!({"type":"history","room":"lobby","before":"x"}),
            "expected u64",
        ),
        (
            json!({"type":"history","room":"lobby","before":-3}),
            "expected u64",
        ),
        (
            json!({"type":"history","room":"lobby","limit":"ten"}),
            "expected u32",
        ),
        (
            json!({"type":"history","room":"lobby","limit":2.5}),
            "expected u32",
        ),
        (json!({"type":"history"}), "missing field `room`"),
    ] {
        let (code, message, room) = error_of(ask(&mut a, bad.clone()).await);
        assert_eq!((code, room), (ErrorCode::InvalidMessage, None), "for {bad}");
        assert!(message.contains(says), "for {bad}: {message}");
    }
    let (code, _, room) = error_of(ask(&mut a, request("no spaces!", None, None)).await);
    assert_eq!(
        (code, room.as_deref()),
        (ErrorCode::InvalidRoom, Some("no spaces!"))
    );
    let (code, _, room) = error_of(ask(&mut a, request("side", None, None)).await);
    assert_eq!(
        (code, room.as_deref()),
        (ErrorCode::NotJoined, Some("side"))
    );

    // Still usable: history and chat work.
    let reply = ask(&mut a, request("lobby", None, Some(2))).await;
    assert!(
        matches!(&reply, ServerMsg::History { messages, has_more: true, .. } if messages.len() == 2),
        "{reply:?}"
    );
    a.chat("lobby", "still here").await;
    assert_eq!(a.recv_chats(1).await[0].seq, 4);

    // After leaving, the room's history is closed to this connection again.
    a.send_json(json!({"type":"leave","room":"lobby"})).await;
    assert!(matches!(a.recv().await, ServerMsg::Left { .. }));
    let (code, _, _) = error_of(ask(&mut a, request("lobby", None, None)).await);
    assert_eq!(code, ErrorCode::NotJoined);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_storage_failure_is_unavailable_and_the_connection_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(unlimited(dir.path())).await;
    let mut a = server.connect().await;
    a.join("lobby", "Ada").await;
    fill(&mut a, "lobby", 3).await;
    // Break the store under the running server: the table history reads is gone.
    let db = rusqlite::Connection::open(dir.path().join("tandem.sqlite3")).unwrap();
    db.execute_batch("ALTER TABLE messages RENAME TO gone")
        .unwrap();
    let (code, _, room) = error_of(ask(&mut a, request("lobby", None, None)).await);
    assert_eq!(
        (code, room.as_deref()),
        (ErrorCode::Unavailable, Some("lobby"))
    );
    a.sync().await;
    db.execute_batch("ALTER TABLE gone RENAME TO messages")
        .unwrap();
    let reply = ask(&mut a, request("lobby", None, None)).await;
    assert!(
        matches!(&reply, ServerMsg::History { messages, .. } if messages.len() == 3),
        "{reply:?}"
    );
    server.stop().await.unwrap();
}
