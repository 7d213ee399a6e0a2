//! Clients for the fault tests under load, as the page behaves: a chat client that moves to
//! the next node when its node dies (hello with its token, rejoin with `since`, resend what
//! was not acknowledged under the same `client_id`) and checks every `seq` it sees is the
//! next one; a document editor that keeps its replica across the move; node processes; and
//! the check that every acknowledged message is stored exactly once.

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

/// Three node processes on a private Postgres and Redis, and each node's `/ws` URL. (Drop
/// order: the nodes before the servers they use.)
pub struct ThreeNodes {
    pub nodes: Vec<Node>,
    pub urls: Vec<String>,
    pub pg: testbed::Postgres,
    pub redis: testbed::Redis,
    _dir: tempfile::TempDir,
}

impl ThreeNodes {
    pub async fn start() -> ThreeNodes {
        let (pg, redis) = tokio::task::spawn_blocking(|| {
            (
                testbed::Postgres::start().unwrap(),
                testbed::Redis::start().unwrap(),
            )
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let nodes: Vec<Node> = (0..3)
            .map(|i| node(dir.path(), i, &pg.url(), &redis.url()))
            .collect();
        let urls = nodes
            .iter()
            .map(|n| format!("ws://{}/ws", n.addr))
            .collect();
        ThreeNodes {
            nodes,
            urls,
            pg,
            redis,
            _dir: dir,
        }
    }
}

/// What a chat client saw: every seq in order, and the seq each of its messages was
/// acknowledged with.
#[derive(Default, Debug)]
pub struct Seen {
    pub seqs: Vec<u64>,
    pub acked: BTreeMap<String, u64>,
    pub problems: Vec<String>,
    /// Connections opened after the first (a move to another node).
    pub moves: usize,
}

/// A client as the page behaves: on losing its node it goes to the next one, says hello
/// with its token, rejoins with `since` = the last seq it saw, and resends what was not
/// acknowledged under the same `client_id`.
pub async fn chatter(
    urls: Vec<String>,
    (room, start): (&'static str, usize),
    name: String,
    run_for: Duration,
) -> Seen {
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
        let join = json!({"type": "join", "room": room, "name": name, "since": since});
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
                    let msg = json!({"type": "chat", "room": room, "text": pending[&cid], "client_id": cid});
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
                                let msg = json!({"type": "chat", "room": room, "text": text, "client_id": cid});
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
pub async fn editor(urls: Vec<String>, start: usize, name: String, run_for: Duration) -> YClient {
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

/// Every acknowledged message is stored exactly once, under the seq it was acknowledged
/// with, and the room's seqs in the store are gapless; returns how many are stored.
pub fn stored_once_each(
    pg: &testbed::Postgres,
    room: &str,
    acked: &BTreeMap<String, u64>,
) -> usize {
    let sql =
        format!("SELECT client_id || ' ' || seq FROM messages WHERE room = '{room}' ORDER BY seq");
    let rows = pg.psql("tandem", &sql).unwrap();
    let lines: Vec<&str> = rows.lines().filter(|l| !l.trim().is_empty()).collect();
    let stored: BTreeMap<String, u64> = lines
        .iter()
        .filter_map(|l| l.trim().split_once(' '))
        .map(|(c, s)| (c.to_owned(), s.parse().unwrap()))
        .collect();
    assert_eq!(stored.len(), lines.len(), "no client_id twice");
    for (cid, seq) in acked {
        assert_eq!(
            stored.get(cid),
            Some(seq),
            "{cid} stored once under its acked seq"
        );
    }
    let seqs: std::collections::BTreeSet<u64> = stored.values().copied().collect();
    let seqs: Vec<u64> = seqs.into_iter().collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gapless in the store"
    );
    stored.len()
}

/// Wait for the chat clients: each saw no gap and no duplicate and chatted a fair amount;
/// `check` looks further at each (with its index). Returns every acknowledged message.
pub async fn finish_chatters(
    chat: Vec<tokio::task::JoinHandle<Seen>>,
    check: impl Fn(usize, &Seen),
) -> BTreeMap<String, u64> {
    let mut all_acked = BTreeMap::new();
    for (i, task) in chat.into_iter().enumerate() {
        let seen = task.await.unwrap();
        assert!(seen.problems.is_empty(), "client {i}: {:?}", seen.problems);
        assert!(
            seen.acked.len() > 20,
            "client {i} chatted: {}",
            seen.acked.len()
        );
        check(i, &seen);
        all_acked.extend(seen.acked);
    }
    all_acked
}
