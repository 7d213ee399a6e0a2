//! The page on a cluster: Alice's browser on one node and Bob's on another chat and co-edit
//! the room's document; then Alice's node is killed (`kill -9`). Her page moves its sockets
//! to the other node by itself (the nodes the server named in `welcome`), and nothing is
//! lost or doubled: the chat and the document go on as before.
//!
//! Screenshots go to `target/artifacts/e2e/cluster-*.png`.

use std::time::Duration;
use tandem_e2e::{
    browser::{Browser, Snapshot, Via},
    cluster::Cluster,
    scenario::{one_at_a_time, with_browsers, Shots},
    server::dist_dir,
};

/// A reconnecting page waits out its backoff, and the other node notices the dead one.
const MOVE: Duration = Duration::from_secs(60);

async fn both(alice: &Browser, bob: &Browser, what: &str, done: impl Fn(&Snapshot) -> bool) {
    alice.wait_for_within(what, MOVE, &done).await;
    bob.wait_for_within(what, MOVE, &done).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_on_two_nodes_then_one_node_is_killed() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("cluster");
    let mut cluster = Cluster::start(2).await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        let (alice, bob) = (&b[0], &b[1]);
        let room = "cluster-room";
        alice.join_room(cluster.url(0), room, "Alice").await;
        bob.join_room(cluster.url(1), room, "Bob").await;
        both(alice, bob, "Alice and Bob present across nodes", |s| {
            s.presence_is(&["Alice", "Bob"])
        })
        .await;
        let t = |n: u32| format!("cluster-msg-{n:03}");
        let mut expected = Vec::new();
        for (who, n) in [(alice, 1), (bob, 2), (alice, 3)] {
            who.send(&t(n), Via::Enter).await;
            expected.push(t(n));
        }
        both(alice, bob, "messages 1-3 once each, in order", |s| {
            s.shows_exactly(&expected) && expected.iter().all(|m| s.confirmed(m))
        })
        .await;
        alice.type_doc("alpha ").await;
        bob.wait_doc("Alice's words", MOVE, |d| d.text() == "alpha ")
            .await;
        bob.type_doc("beta ").await;
        alice
            .wait_doc("Bob's words", MOVE, |d| d.text() == "alpha beta ")
            .await;
        shots.take("before-kill", &[alice, bob]).await;

        cluster.kill(0);
        // Alice writes at once: her message waits in her page until it is acknowledged.
        alice.send(&t(4), Via::Enter).await;
        expected.push(t(4));
        both(
            alice,
            bob,
            "message 4 through the surviving node, once",
            |s| s.shows_exactly(&expected) && s.confirmed(&t(4)),
        )
        .await;
        alice
            .wait_for_within("live again", MOVE, Snapshot::is_live)
            .await;
        bob.send(&t(5), Via::Enter).await;
        expected.push(t(5));
        both(alice, bob, "all five once each, in order", |s| {
            s.shows_exactly(&expected)
        })
        .await;
        // The document goes on from where it was, through the surviving node.
        alice.type_doc("gamma").await;
        let parts = ["alpha ", "beta ", "gamma"];
        let mut texts = Vec::new();
        for who in [alice, bob] {
            let doc = who
                .wait_doc("the document after the kill", MOVE, |d| {
                    d.text().len() == 16 && parts.iter().all(|p| d.count(p) == 1)
                })
                .await;
            texts.push(doc.text().to_owned());
        }
        assert_eq!(texts[0], texts[1], "one document on both nodes");
        both(alice, bob, "both present after the move", |s| {
            s.presence_is(&["Alice", "Bob"])
        })
        .await;
        shots.take("after-kill", &[alice, bob]).await;
    })
    .await;
}
