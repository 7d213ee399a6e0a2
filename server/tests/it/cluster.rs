//! Cluster mode: three nodes through `run` on one private Postgres and one private Redis
//! (real servers, started by `testbed` on free ports in temporary directories). Chat, seq,
//! idempotency, `since`, presence and documents across nodes. (Redis restarted, Postgres
//! stopped, moderation: `cluster_faults.rs`; `kill -9` of a node process: `cluster_kill.rs`.)

use super::util::{chat_text, error_code, Client, TestServer, WAIT};
use super::yclient::YClient;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use tandem_server::Config;
use tandem_shared::{ErrorCode, ServerMsg};

/// A private Postgres and Redis, and the nodes started on them.
pub struct Cluster {
    pub pg: testbed::Postgres,
    pub redis: testbed::Redis,
    pub db: String,
    pub dir: tempfile::TempDir,
    pub nodes: Vec<TestServer>,
}

/// A node's configuration: the shared store and backplane, the shared identity key (so a
/// token from one node is good on all), a short liveness window.
pub fn node_config(dir: &Path, i: usize, db: &str, redis: &str) -> Config {
    let mut config = Config::for_tests(dir.join(format!("node{i}")));
    config.postgres = Some(db.to_owned());
    config.redis = Some(redis.to_owned());
    config.secret_file = Some(dir.join("secret.key"));
    config.node_ttl_ms = 1_000;
    // Tests stop reading for a while when they stop Redis or Postgres.
    config.heartbeat_ms = 1_000;
    config.client_timeout_ms = 20_000;
    config.postgres_pool = 4;
    config.api_keys = vec![super::http::API_KEY.to_owned()];
    config
}

impl Cluster {
    pub async fn start(nodes: usize) -> Cluster {
        let (pg, redis) = tokio::task::spawn_blocking(|| {
            (
                testbed::Postgres::start().expect("postgres"),
                testbed::Redis::start().expect("redis"),
            )
        })
        .await
        .unwrap();
        let db = pg.url();
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = Cluster {
            pg,
            redis,
            db,
            dir,
            nodes: Vec::new(),
        };
        for _ in 0..nodes {
            cluster.add_node().await;
        }
        cluster
    }

    pub async fn add_node(&mut self) -> &TestServer {
        let i = self.nodes.len();
        let config = node_config(self.dir.path(), i, &self.db, &self.redis.url());
        let node = TestServer::start(config).await;
        // `run` connects to Postgres and Redis before it serves.
        if !serving(&node).await {
            panic!("node {i} did not start: {:?}", node.stop().await);
        }
        self.nodes.push(node);
        self.nodes.last().unwrap()
    }

    pub async fn stop(self) {
        for node in self.nodes {
            node.stop().await.expect("node stops cleanly");
        }
    }
}

pub use super::http::get as http_get;

/// Poll `path` until its status is `want`; returns the body.
pub async fn until_status(node: &TestServer, path: &str, want: u16) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some((status, body)) = http_get(node.addr, path).await {
            if status == want {
                return body;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} answers {want} in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the node answers `/healthz` within [`WAIT`].
async fn serving(node: &TestServer) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if http_get(node.addr, "/healthz")
            .await
            .is_some_and(|(s, _)| s == 200)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The same user again, through another node.
pub async fn again(node: &TestServer, token: &str) -> Client {
    let mut c = node.connect().await;
    assert!(
        c.hello(Some(token)).await.is_none(),
        "the token is good on every node"
    );
    c
}

pub fn count(m: &ServerMsg) -> Option<u64> {
    match m {
        ServerMsg::Joined { count, .. } | ServerMsg::Presence { count, .. } => Some(*count),
        _ => None,
    }
}

/// Read presence frames until the room's count is `n`.
pub async fn until_count(c: &mut Client, n: u64) {
    until_count_any(c, |count| count == n).await
}

/// Read presence frames until the room's count satisfies `pred`.
pub async fn until_count_any(c: &mut Client, pred: impl Fn(u64) -> bool) {
    c.recv_until(|m| matches!(m, ServerMsg::Presence { .. }) && count(m).is_some_and(&pred))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_one_room_one_gapless_sequence() {
    let cluster = Cluster::start(3).await;
    let mut clients = Vec::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        let mut c = node.user().await;
        c.join("lobby", &format!("user{i}")).await;
        clients.push(c);
    }
    // Presence is one list across nodes: everyone sees three.
    for c in &mut clients {
        until_count(c, 3).await;
    }
    // Everyone sends at once, through their own node.
    const EACH: usize = 30;
    for round in 0..EACH {
        for (i, c) in clients.iter_mut().enumerate() {
            c.chat("lobby", &format!("m{i}-{round}")).await;
        }
    }
    let mut orders = Vec::new();
    for c in &mut clients {
        let got = c.recv_chats(3 * EACH).await;
        let seqs: Vec<u64> = got.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=3 * EACH as u64).collect::<Vec<_>>(),
            "gapless, in order, once"
        );
        orders.push(got.into_iter().map(|m| m.text).collect::<Vec<_>>());
    }
    assert!(
        orders.windows(2).all(|w| w[0] == w[1]),
        "one order on every node"
    );
    let texts: BTreeSet<_> = orders[0].iter().cloned().collect();
    assert_eq!(texts.len(), 3 * EACH, "every message exactly once");
    // History through any node is the same sequence.
    let mut reader = cluster.nodes[2].user().await;
    reader.join("lobby", "reader").await;
    reader
        .send_json(json!({"type": "history", "room": "lobby", "limit": 200}))
        .await;
    let page = reader
        .recv_until(|m| matches!(m, ServerMsg::History { .. }))
        .await;
    let ServerMsg::History { messages, .. } = page else {
        unreachable!()
    };
    let stored: Vec<String> = messages.into_iter().map(|m| m.text).collect();
    assert_eq!(stored, orders[0]);
    // A backend's message through one node's API: numbered next, delivered on every node;
    // its retry through another node is the same message.
    let body = json!({"text": "from a backend", "client_id": "api-1"}).to_string();
    let path = "/api/rooms/lobby/messages";
    let sent = super::http::api(cluster.nodes[1].addr, "POST", path, Some(&body)).await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.json()["message"]["seq"], 3 * EACH as u64 + 1);
    for c in &mut clients {
        let got = c.recv_until(|m| chat_text(m).is_some()).await;
        assert_eq!(chat_text(&got).map(|c| c.2), Some("from a backend"));
    }
    let again = super::http::api(cluster.nodes[2].addr, "POST", path, Some(&body)).await;
    assert_eq!(again.json()["message"], sent.json()["message"]);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_on_two_nodes_is_one_member_and_a_retry_elsewhere_is_deduplicated() {
    let cluster = Cluster::start(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut watcher = b.user().await;
    watcher.join("team", "watcher").await;
    let mut ada = a.user().await;
    ada.join("team", "Ada").await;
    until_count(&mut watcher, 2).await;
    // Ada opens a second tab through the other node: still two members.
    let mut ada2 = again(b, &ada.token).await;
    let joined = ada2.join("team", "Ada").await;
    assert_eq!(count(&joined), Some(2), "one member however many nodes");

    let send = json!({"type": "chat", "room": "team", "text": "hello", "client_id": "c-1"});
    ada.send_json(send.clone()).await;
    let first = ada.recv_until(|m| chat_text(m).is_some()).await;
    let (_, seq, _) = chat_text(&first).unwrap();
    for c in [&mut watcher, &mut ada2] {
        let seen = c.recv_until(|m| chat_text(m).is_some()).await;
        assert_eq!(chat_text(&seen).unwrap().1, seq);
    }
    // The same message again (a retry after a failover) through the other node: acked with
    // the original seq, stored and broadcast once.
    ada2.send_json(send).await;
    let ack = ada2
        .recv_until(|m| chat_text(m).is_some_and(|(_, s, _)| s == seq))
        .await;
    assert_eq!(chat_text(&ack).unwrap().2, "hello");
    // Another text under the same client_id is refused.
    ada2.send_json(json!({"type": "chat", "room": "team", "text": "other", "client_id": "c-1"}))
        .await;
    let refused = ada2.recv_until(|m| error_code(m).is_some()).await;
    assert_eq!(error_code(&refused), Some(ErrorCode::ClientIdReused));
    watcher.chat("team", "after").await;
    let next = watcher.recv_until(|m| chat_text(m).is_some()).await;
    let (_, next_seq, text) = chat_text(&next).unwrap();
    assert_eq!(
        (next_seq, text),
        (seq + 1, "after"),
        "no duplicate went out"
    );
    // Ada's first tab closes: she is still here through the other node.
    drop(ada);
    watcher.chat("team", "still two?").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut check = b.user().await;
    let joined = check.join("team", "check").await;
    assert_eq!(count(&joined), Some(3), "watcher, Ada (through b), check");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_since_on_another_node_returns_exactly_the_missing_messages() {
    let cluster = Cluster::start(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut writer = a.user().await;
    writer.join("since", "w").await;
    for i in 1..=5 {
        writer.chat("since", &format!("m{i}")).await;
    }
    writer.recv_chats(5).await;
    // A reader on b, loaded now, and one who saw up to 3 through a.
    let mut reader = b.user().await;
    reader
        .send_json(json!({"type": "join", "room": "since", "name": "r", "since": 3}))
        .await;
    let joined = reader
        .recv_until(|m| matches!(m, ServerMsg::Joined { .. }))
        .await;
    let ServerMsg::Joined {
        history,
        last_seq,
        gap,
        ..
    } = joined
    else {
        unreachable!()
    };
    let seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
    assert_eq!((seqs, last_seq, gap), (vec![4, 5], 5, false));
    // Live from now on, from either node.
    writer.chat("since", "m6").await;
    let got = reader.recv_chats(1).await;
    assert_eq!((got[0].seq, got[0].text.as_str()), (6, "m6"));
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_converge_across_nodes_with_awareness() {
    let cluster = Cluster::start(3).await;
    let mut docs = Vec::new();
    for node in &cluster.nodes {
        docs.push(YClient::join(node, "notes").await);
    }
    for round in 0..10 {
        for (i, d) in docs.iter_mut().enumerate() {
            d.push(&format!("[{i}.{round}]")).await;
        }
    }
    let expected_len = 3 * 10 * "[0.0]".len();
    for d in &mut docs {
        d.until(|d| d.text().len() == expected_len).await;
    }
    let texts: Vec<String> = docs.iter().map(|d| d.text()).collect();
    assert!(
        texts.windows(2).all(|w| w[0] == w[1]),
        "one document on every node: {texts:?}"
    );
    // Awareness crosses nodes.
    let id = docs[0].client_id();
    docs[0]
        .set_awareness(id, 1, r#"{"user":{"name":"Ada"}}"#)
        .await;
    docs[2]
        .until(|d| d.awareness.get(&id).is_some_and(|(_, s)| s.contains("Ada")))
        .await;
    // A new client on any node loads the same document from the store + its replica.
    let late = YClient::join(&cluster.nodes[1], "notes").await;
    assert_eq!(late.text(), texts[0]);
    cluster.stop().await;
}
