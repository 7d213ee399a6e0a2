//! Fault (a): `kill -9` one of three node processes (the real binary) while clients on all
//! three chat and edit at a steady rate. Its clients move to another node and resume with no
//! gap and no duplicate, every acknowledged message is stored exactly once, the documents
//! converge, and a user who does not come back leaves presence by liveness alone.

use super::cluster::until_count_any;
use super::util::left;
use super::yclient::YClient;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use tandem_server::docs::TEXT;
use tandem_shared::ServerMsg;
use testbed::Node;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};
use yrs::{GetString, Text, Transact};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Node `i`: the debug server binary on the test's Postgres and Redis.
fn node(dir: &std::path::Path, i: usize, db: &str, redis: &str) -> Node {
    let flags = [
        "--workers",
        "1",
        "--node-ttl-ms",
        "1000",
        "--heartbeat-ms",
        "1000",
        "--client-timeout-ms",
        "20000",
        "--postgres-pool",
        "4",
        "--joins-per-sec",
        "1000",
    ];
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_tandem-server"));
    Node::spawn(bin, dir, i, (db, redis), &flags).expect("the server binary starts")
}

/// What a chat client saw: every seq in order, and the seq each of its messages was
/// acknowledged with.
#[derive(Default, Debug)]
struct Seen {
    seqs: Vec<u64>,
    acked: BTreeMap<String, u64>,
    problems: Vec<String>,
    /// Connections opened after the first (a move to another node).
    moves: usize,
}

/// A client as the page behaves: on losing its node it goes to the next one, says hello
/// with its token, rejoins with `since` = the last seq it saw, and resends what was not
/// acknowledged under the same `client_id`.
async fn chatter(urls: Vec<String>, start: usize, name: String, run_for: Duration) -> Seen {
    let mut seen = Seen::default();
    let mut token: Option<String> = None;
    let mut at = start;
    let mut pending: BTreeMap<String, String> = BTreeMap::new();
    let (mut sent, mut me) = (0u32, String::new());
    let stop_sending = Instant::now() + run_for;
    let give_up = stop_sending + Duration::from_secs(20);
    let mut first = true;
    'connect: while Instant::now() < give_up {
        if !std::mem::take(&mut first) {
            seen.moves += 1;
        }
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&urls[at]).await else {
            at = (at + 1) % urls.len();
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let hello = json!({"type": "hello", "protocol_version": 1, "token": token});
        let since = seen.seqs.last().copied();
        let join = json!({"type": "join", "room": "kill", "name": name, "since": since});
        if send(&mut ws, &hello).await.is_err() || send(&mut ws, &join).await.is_err() {
            continue;
        }
        let mut joined = false;
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            if Instant::now() > stop_sending && pending.is_empty() && joined {
                return seen;
            }
            tokio::select! {
                _ = tick.tick(), if joined && Instant::now() < stop_sending => {
                    sent += 1;
                    let cid = format!("{name}-{sent}");
                    pending.insert(cid.clone(), format!("{name} says {sent}"));
                    let msg = json!({"type": "chat", "room": "kill", "text": pending[&cid], "client_id": cid});
                    if send(&mut ws, &msg).await.is_err() {
                        break;
                    }
                }
                msg = ws.next() => {
                    let Some(Ok(msg)) = msg else { break };
                    let Message::Text(text) = msg else { continue };
                    match serde_json::from_str::<ServerMsg>(&text).unwrap() {
                        ServerMsg::Hello { user_id, token: t, .. } => {
                            me = user_id;
                            token = t.or(token.take());
                        }
                        ServerMsg::Joined { history, .. } => {
                            for m in history {
                                seen.take(m.seq, &format!("joined history after {since:?}"));
                            }
                            joined = true;
                            // Resend what was not acknowledged, under the same client_id.
                            for (cid, text) in &pending {
                                let msg = json!({"type": "chat", "room": "kill", "text": text, "client_id": cid});
                                if send(&mut ws, &msg).await.is_err() {
                                    continue 'connect;
                                }
                            }
                        }
                        ServerMsg::Chat(m) => {
                            let ours = m.sender.id == me;
                            let acked = m.client_id.as_ref().filter(|_| ours).and_then(|c| pending.remove_entry(c));
                            if let Some((cid, _)) = acked {
                                seen.acked.insert(cid, m.seq);
                            }
                            // Our own message seen already: the ack of a resend, not news.
                            let ack_only = ours && seen.seqs.last().is_some_and(|s| m.seq <= *s);
                            if !ack_only {
                                seen.take(m.seq, "live");
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        // The node is gone: the next one.
        at = (at + 1) % urls.len();
    }
    seen.problems
        .push(format!("gave up with {} unacknowledged", pending.len()));
    seen
}

impl Seen {
    fn take(&mut self, seq: u64, how: &str) {
        let expected = self.seqs.last().map_or(seq, |s| s + 1);
        if seq != expected {
            self.problems
                .push(format!("{how}: seq {seq}, expected {expected}"));
        }
        self.seqs.push(seq);
    }
}

async fn send(ws: &mut Ws, v: &serde_json::Value) -> Result<(), ()> {
    ws.send(Message::Text(v.to_string())).await.map_err(|_| ())
}

/// A document editor that appends `[name.n]` every 100 ms and moves to the next node when
/// its node dies, keeping its replica (its unconfirmed edits go with the resync).
async fn editor(urls: Vec<String>, start: usize, name: String, run_for: Duration) -> YClient {
    let url = |i: usize| urls[i].replace("/ws", "/yjs/kill");
    let mut c = YClient::connect(&url(start)).await;
    let mut at = start;
    let stop = Instant::now() + run_for;
    let mut n = 0;
    while Instant::now() < stop {
        n += 1;
        let update = {
            let text = c.doc.get_or_insert_text(TEXT);
            let mut txn = c.doc.transact_mut();
            let len = text.get_string(&txn).chars().count() as u32;
            text.insert(&mut txn, len, &format!("[{name}.{n}]"));
            txn.encode_update_v1()
        };
        let msg = yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(update));
        let mut alive = c
            .try_send_bytes(yrs::updates::encoder::Encode::encode_v1(&msg))
            .await;
        let until = Instant::now() + Duration::from_millis(100);
        while alive && Instant::now() < until {
            if let Some(Err(_)) = c.next_within(Duration::from_millis(20)).await {
                alive = false;
            }
        }
        if !alive {
            at = (at + 1) % urls.len();
            while let Err(_) | Ok(Err(_)) = tokio::time::timeout(
                Duration::from_secs(2),
                tokio_tungstenite::connect_async(url(at)),
            )
            .await
            {
                at = (at + 1) % urls.len();
            }
            let fresh = YClient::connect(&url(at)).await;
            c.ws = fresh.ws;
            c.sync().await;
        }
    }
    c.sync().await;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_one_of_three_nodes_under_chat_and_editing_loses_nothing() {
    let (pg, redis) = tokio::task::spawn_blocking(|| {
        (
            testbed::Postgres::start().unwrap(),
            testbed::Redis::start().unwrap(),
        )
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Node> = (0..3)
        .map(|i| node(dir.path(), i, &pg.url(), &redis.url()))
        .collect();
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| format!("ws://{}/ws", n.addr))
        .collect();
    // Someone on node 0 who never comes back: liveness must take them out of presence.
    let mut gone = super::util::Client::connect(&urls[0]).await;
    gone.hello(None).await;
    gone.join("kill", "ghost").await;

    let run_for = Duration::from_secs(4);
    let mut chat = Vec::new();
    let mut edit = Vec::new();
    for i in 0..3 {
        chat.push(tokio::spawn(chatter(
            urls.clone(),
            i,
            format!("c{i}"),
            run_for,
        )));
        edit.push(tokio::spawn(editor(
            urls.clone(),
            i,
            format!("e{i}"),
            run_for,
        )));
    }
    let mut watcher = super::util::Client::connect(&urls[2]).await;
    watcher.hello(None).await;
    watcher.join("kill", "watcher").await;
    until_count_any(&mut watcher, |n| n == 5).await; // ghost, c0..c2, watcher
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    nodes[0].kill9();
    let killed = Instant::now();
    // The ghost leaves by liveness (the chat client c0 comes back through another node).
    watcher.recv_until(|m| left(m, &gone.user_id)).await;
    let left_after = killed.elapsed();
    assert!(
        left_after < Duration::from_secs(5),
        "gone from presence in {left_after:?}"
    );

    let mut all_acked = BTreeMap::new();
    for (i, task) in chat.into_iter().enumerate() {
        let seen = task.await.unwrap();
        assert!(seen.problems.is_empty(), "client {i}: {:?}", seen.problems);
        assert!(
            seen.acked.len() > 20,
            "client {i} chatted: {}",
            seen.acked.len()
        );
        if i == 0 {
            assert!(
                seen.moves > 0,
                "the killed node's client moved to another node"
            );
        }
        all_acked.extend(seen.acked);
    }
    // Every acknowledged message is stored exactly once, with the seq it was acked with.
    let rows = pg
        .psql(
            "tandem",
            "SELECT client_id || ' ' || seq FROM messages WHERE room = 'kill' ORDER BY seq",
        )
        .unwrap();
    let stored: BTreeMap<String, u64> = rows
        .lines()
        .filter_map(|l| l.trim().split_once(' '))
        .map(|(c, s)| (c.to_owned(), s.parse().unwrap()))
        .collect();
    assert_eq!(
        stored.len(),
        rows.lines().filter(|l| !l.trim().is_empty()).count(),
        "no client_id twice"
    );
    for (cid, seq) in &all_acked {
        assert_eq!(
            stored.get(cid),
            Some(seq),
            "{cid} stored once under its acked seq"
        );
    }
    eprintln!(
        "kill -9: ghost left presence {left_after:?} after the kill; {} acknowledged, {} stored",
        all_acked.len(),
        stored.len()
    );
    let seqs: Vec<u64> = stored
        .values()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gapless in the store"
    );

    // The documents converge: every editor, and a fresh reader on a surviving node.
    let mut editors = Vec::new();
    for task in edit {
        editors.push(task.await.unwrap());
    }
    let mut reader = YClient::connect(&urls[1].replace("/ws", "/yjs/kill")).await;
    reader.sync().await;
    for e in &mut editors {
        e.sync().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for e in &mut editors {
        e.drain(Duration::from_millis(200)).await;
    }
    reader.drain(Duration::from_millis(200)).await;
    let expected = reader.text();
    for (i, e) in editors.iter().enumerate() {
        assert_eq!(e.text(), expected, "editor {i} converged");
    }
    for i in 0..3 {
        assert!(
            expected.contains(&format!("[e{i}.1]")),
            "every editor's edits are in it"
        );
    }
    drop(nodes);
}
