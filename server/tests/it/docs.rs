//! The shared document on `/yjs/<room>`: y-websocket clients with real `yrs` documents edit,
//! converge, join late, survive restarts, and cannot break the document or each other.

use crate::util::*;
use futures_util::SinkExt;
use std::{path::Path, time::Duration};
use tandem_server::Config;
use yrs::sync::{Message as YMessage, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{Doc, Text, Transact};

/// Test defaults, with a heartbeat timeout long enough for clients that pause reading.
fn config(dir: &Path) -> Config {
    Config {
        heartbeat_ms: 500,
        client_timeout_ms: 10_000,
        ..Config::for_tests(dir)
    }
}

#[tokio::test]
async fn two_clients_edit_concurrently_and_converge() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut a = YClient::join(&server, "pad").await;
    let mut b = YClient::join(&server, "pad").await;
    // Both type at once without waiting for each other: positions conflict on purpose.
    for i in 0..20 {
        a.insert(0, &format!("a{i} ")).await;
        b.push(&format!("b{i} ")).await;
    }
    let expected_len: usize = (0..20).map(|i| format!("a{i} b{i} ").len()).sum();
    a.until(|c| c.text().len() == expected_len).await;
    b.until(|c| c.text().len() == expected_len).await;
    assert_eq!(a.text(), b.text(), "converged");
    for i in 0..20 {
        assert!(a.text().contains(&format!("a{i} ")));
        assert!(a.text().contains(&format!("b{i} ")));
    }
    // Deletions travel too.
    let update = {
        let text = a.doc.get_or_insert_text(tandem_server::docs::TEXT);
        let mut txn = a.doc.transact_mut();
        text.remove_range(&mut txn, 0, 5);
        txn.encode_update_v1()
    };
    a.send_update(update).await;
    let after = a.text();
    b.until_text(&after).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_late_joiner_receives_the_full_state() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut a = YClient::join(&server, "pad").await;
    for word in ["one ", "two ", "three"] {
        a.push(word).await;
    }
    a.sync().await; // the edits are in the document now
    let mut late = YClient::join(&server, "pad").await;
    assert_eq!(late.text(), "one two three");
    // The late joiner's own offline edit reaches the first client through its step 2.
    let mut offline = YClient::connect(&server.url("/yjs/pad")).await;
    {
        let text = offline.doc.get_or_insert_text(tandem_server::docs::TEXT);
        text.insert(&mut offline.doc.transact_mut(), 0, "zero ");
    }
    offline.sync().await; // answers the server's step 1 with its edit, then gets step 2
                          // Concurrent inserts at the start: the CRDT orders them (by client id); all agree.
    let both = "zero one two three".len();
    offline.until(|c| c.text().len() == both).await;
    let merged = offline.text();
    assert!(merged == "zero one two three" || merged == "one two threezero ");
    a.until_text(&merged).await;
    late.until_text(&merged).await;
    // Another room has its own document.
    let other = YClient::join(&server, "elsewhere").await;
    assert_eq!(other.text(), "");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_document_survives_restarts_compaction_and_unloading() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.doc_compact_updates = 5; // compact several times along the way
    cfg.room_idle_ms = 100;
    let server = TestServer::start(cfg.clone()).await;
    let mut a = YClient::join(&server, "pad").await;
    let mut expected = String::new();
    for i in 0..23 {
        let word = format!("w{i} ");
        a.push(&word).await;
        expected.push_str(&word);
    }
    a.sync().await;
    server.stop().await.unwrap();

    let server = TestServer::start(cfg.clone()).await;
    let mut b = YClient::join(&server, "pad").await;
    assert_eq!(b.text(), expected, "after a restart");
    b.push("more").await;
    expected.push_str("more");
    b.sync().await;
    drop(b);
    // Nobody uses it: it unloads (and compacts), then loads again.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let c = YClient::join(&server, "pad").await;
    assert_eq!(c.text(), expected, "after unloading");
    server.stop().await.unwrap();

    let server = TestServer::start(cfg).await;
    let d = YClient::join(&server, "pad").await;
    assert_eq!(d.text(), expected, "after a second restart");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_same_document_on_the_memory_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.memory_store = true;
    cfg.doc_compact_updates = 2;
    let server = TestServer::start(cfg).await;
    let mut a = YClient::join(&server, "pad").await;
    for w in ["a", "b", "c", "d", "e"] {
        a.push(w).await;
    }
    a.sync().await;
    let b = YClient::join(&server, "pad").await;
    assert_eq!(b.text(), "abcde");
    server.stop().await.unwrap();
}

/// Two clients editing "hello", and one that misbehaves.
async fn two_editors(server: &TestServer, room: &str) -> (YClient, YClient) {
    let mut a = YClient::join(server, room).await;
    let mut b = YClient::join(server, room).await;
    a.push("hello").await;
    b.until_text("hello").await;
    (a, b)
}

/// The others are unharmed: they stay connected, edit, and a newcomer sees `expected` plus
/// their edit; the state survives a restart.
async fn still_fine(
    server: TestServer,
    room: &str,
    a: &mut YClient,
    b: &mut YClient,
    expected: &str,
) {
    a.push("!").await;
    let expected = format!("{expected}!");
    b.until_text(&expected).await;
    a.sync().await;
    let c = YClient::join(&server, room).await;
    assert_eq!(c.text(), expected);
    let cfg = server.config.clone();
    server.stop().await.unwrap();
    let server = TestServer::start(cfg).await;
    let d = YClient::join(&server, room).await;
    assert_eq!(d.text(), expected, "after a restart");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_messages_close_only_their_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let (mut a, mut b) = two_editors(&server, "pad").await;
    let url = server.url("/yjs/pad");
    let update = |payload: Vec<u8>| YMessage::Sync(SyncMessage::Update(payload)).encode_v1();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage update", update(vec![0xff; 12])),
        ("truncated update", update(vec![1, 1, 0xff, 0xff])),
        ("truncated message", vec![0, 2, 50, 1, 2]),
        ("unknown sync type", vec![0, 7, 0]),
    ];
    if cfg!(debug_assertions) {
        // yrs asserts (panics) on a client id beyond 53 bits in debug builds: the guard
        // turns that into a refusal. Release builds truncate the id instead (harmless).
        let panics = update(vec![
            1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 4, 1, 1, b'c', 1,
            b'x', 0,
        ]);
        cases.push(("client id beyond 53 bits", panics));
    }
    for (what, bytes) in cases {
        let mut m = YClient::connect(&url).await;
        m.send_bytes(bytes).await;
        let closed = m.closed().await;
        assert_eq!(
            closed,
            Some((4400, "malformed message".to_owned())),
            "{what}"
        );
    }
    // A text frame is not part of the protocol.
    let mut m = YClient::connect(&url).await;
    m.ws.send(tokio_tungstenite::tungstenite::Message::text("{}"))
        .await
        .unwrap();
    assert!(matches!(m.closed().await, Some((1003, _))));
    still_fine(server, "pad", &mut a, &mut b, "hello").await;
}

/// An update that decodes but that yrs fails to apply after integrating part of it (found by
/// mutating valid updates): the document must come back exactly as it was before it.
#[tokio::test]
async fn an_update_that_fails_halfway_leaves_the_document_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    // The base: what the failing update refers to (text "ab4ab3ab2ab1ab0" and a map "m").
    let base: Vec<u8> = vec![
        1, 6, 1, 0, 4, 1, 7, 99, 111, 110, 116, 101, 110, 116, 3, 97, 98, 48, 68, 1, 0, 3, 97, 98,
        49, 68, 1, 3, 3, 97, 98, 50, 68, 1, 6, 3, 97, 98, 51, 68, 1, 9, 3, 97, 98, 52, 40, 1, 1,
        109, 1, 107, 1, 119, 1, 118, 0,
    ];
    let failing: Vec<u8> = vec![1, 1, 194, 6, 0, 23, 108, 1, 5, 1, 0, 3, 120, 121, 122];
    let mut a = YClient::join(&server, "pad").await;
    let mut b = YClient::join(&server, "pad").await;
    a.send_update(base).await;
    b.until_text("ab4ab3ab2ab1ab0").await;
    let mut m = YClient::join(&server, "pad").await;
    m.send_update(failing).await;
    assert_eq!(
        m.closed().await,
        Some((4400, "malformed message".to_owned()))
    );
    let expected = "ab4ab3ab2ab1ab0";
    let c = YClient::join(&server, "pad").await;
    assert_eq!(c.text(), expected);
    still_fine(server, "pad", &mut a, &mut b, expected).await;
}

#[tokio::test]
async fn oversize_updates_and_documents_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.doc_max_update = 4096;
    cfg.doc_max_bytes = 16 * 1024;
    let server = TestServer::start(cfg).await;
    let (mut a, mut b) = two_editors(&server, "pad").await;
    let url = server.url("/yjs/pad");

    // One update over --doc-max-update (the frame limit stops it before it is decoded).
    let mut m = YClient::join(&server, "pad").await;
    m.push(&"x".repeat(5000)).await;
    assert_eq!(m.closed().await, Some((1009, "message too big".to_owned())));
    // Just over it, inside the frame limit's allowance for the message envelope.
    let mut m = YClient::join(&server, "pad").await;
    let mut len = 4000;
    let just_over = loop {
        let doc = Doc::new();
        let text = doc.get_or_insert_text(tandem_server::docs::TEXT);
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, &"x".repeat(len));
        let update = txn.encode_update_v1();
        if update.len() > 4096 {
            break update;
        }
        len += 1;
    };
    m.send_update(just_over).await;
    assert_eq!(
        m.closed().await,
        Some((1009, "update too large".to_owned()))
    );
    // A message far beyond it.
    let mut m = YClient::connect(&url).await;
    m.send_bytes(vec![0; 100_000]).await;
    assert!(matches!(m.closed().await, Some((1009, _)) | None));

    // Updates within the limit until the document is full.
    let mut m = YClient::join(&server, "pad").await;
    let chunk = "y".repeat(3000);
    let closed = loop {
        m.push(&chunk).await;
        if let Some(Err(closed)) = m.next_within(Duration::from_millis(300)).await {
            break closed;
        }
    };
    assert_eq!(
        closed,
        Some((4413, "document size limit reached".to_owned()))
    );
    // What was accepted before stays; the refused chunk is not there.
    a.sync().await;
    let accepted = a.text();
    let chunks = accepted.matches(&chunk).count();
    assert!((3..=5).contains(&chunks), "{chunks} chunks fit in 16 KiB");
    assert!(accepted.starts_with("hello"));
    b.until_text(&accepted).await;
    let c = YClient::join(&server, "pad").await;
    assert_eq!(c.text(), accepted);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn awareness_belongs_to_the_connection_that_set_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut a = YClient::join(&server, "pad").await;
    let mut b = YClient::join(&server, "pad").await;
    let a_id = a.client_id();
    a.set_awareness(a_id, 1, r#"{"user":{"name":"Ada"}}"#).await;
    b.until(|c| c.awareness.contains_key(&a_id)).await;

    // Mallory tries to rename Ada, then to remove her.
    let mut m = YClient::join(&server, "pad").await;
    m.until(|c| c.awareness.contains_key(&a_id)).await; // sent on connect
    m.set_awareness(a_id, 5, r#"{"user":{"name":"Mallory"}}"#)
        .await;
    m.set_awareness(a_id, 6, "null").await;
    m.sync().await; // processed by now
                    // Ada's next state (clock 2) is the next thing about her that Bob sees.
    a.set_awareness(a_id, 2, r#"{"user":{"name":"Ada L."}}"#)
        .await;
    b.until(|c| c.awareness.get(&a_id).is_some_and(|(clock, _)| *clock != 1))
        .await;
    assert_eq!(
        b.awareness[&a_id],
        (2, r#"{"user":{"name":"Ada L."}}"#.to_owned())
    );
    // A query gets the current states.
    b.send_bytes(vec![3]).await;
    let states = loop {
        if let YMessage::Awareness(u) = b.next().await.unwrap() {
            break u;
        }
    };
    let ids: Vec<u64> = states.clients.keys().map(|id| id.get()).collect();
    assert_eq!(ids, [a_id]);

    // Ada's entry vanishes when her connection drops.
    drop(a);
    b.until(|c| {
        c.awareness
            .get(&a_id)
            .is_some_and(|(_, json)| json == "null")
    })
    .await;
    let mut newcomer = YClient::join(&server, "pad").await;
    assert!(newcomer.drain(Duration::from_millis(200)).await);
    assert!(
        !newcomer.awareness.contains_key(&a_id),
        "no state for a client that left"
    );
    // Mallory may not claim the id of someone who left with an old state either.
    m.set_awareness(a_id, 2, r#"{"user":{"name":"Ada L."}}"#)
        .await;
    m.sync().await;
    assert!(newcomer.drain(Duration::from_millis(200)).await);
    assert!(!newcomer.awareness.contains_key(&a_id));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn endpoint_rules_and_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    // Invalid room names are refused before the upgrade.
    let bad = tokio_tungstenite::connect_async(server.url("/yjs/not%20ok")).await;
    match bad {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 400)
        }
        other => panic!("expected 400, got {other:?}"),
    }
    // The origin policy is that of /ws.
    let refused =
        Client::connect_with_origin(&server.url("/yjs/pad"), "https://evil.example").await;
    assert_eq!(refused, Err(403));
    // The server speaks first: sync step 1.
    let mut c = YClient::connect(&server.url("/yjs/pad")).await;
    let first = c.next().await.unwrap();
    assert!(matches!(first, YMessage::Sync(SyncMessage::SyncStep1(_))));
    // Our own step 1 is answered with step 2 even for an empty document.
    c.sync().await;
    server.begin_shutdown();
    assert!(matches!(c.closed().await, Some((1001, _))));
    server.finished().await.unwrap();
}
