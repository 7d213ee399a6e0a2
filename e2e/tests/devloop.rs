//! The development loop: the page served by `trunk serve` (the workspace's `Trunk.toml`, its
//! proxies pointed at a test server) talks to the server through trunk's proxies, `/ws` for
//! the chat and `/yjs/<room>` for the room's shared document, live both ways with a person on
//! the server directly.
//!
//! Screenshots go to `target/artifacts/e2e/devloop-*.png` (`…-failed-…` when a step fails),
//! trunk's output to `target/artifacts/e2e/devloop-trunk.log`.

use std::time::Duration;
use tandem_e2e::{
    browser::{Browser, Via},
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
    trunk::{ws_first_bytes, TrunkServe},
    wait,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_from_trunk_serve_reaches_chat_and_document_through_its_proxies() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("devloop");
    let server = TestServer::start().await;
    let trunk = TrunkServe::start(server.addr(), &shots.log("trunk")).await;

    // Each endpoint, first without a browser: trunk must hand the upgrade to the server (which
    // speaks first), not answer it with the page.
    let room = "devloop";
    for path in ["/ws".to_owned(), format!("/yjs/{room}")] {
        if let Err(e) = ws_first_bytes(trunk.port(), &path, Duration::from_secs(10)).await {
            panic!(
                "a WebSocket on {path} through trunk serve (port {}) did not reach the server: \
                 {e}; is {path} proxied in Trunk.toml? (see {})",
                trunk.port(),
                trunk.log().display()
            );
        }
    }

    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        dev_loop(&shots, &server, &trunk, room, &b[0], &b[1]).await
    })
    .await;
}

/// Alice opens the room on trunk's port, Bob on the server's. Each one's chat message and
/// words in the document reach the other: Alice's sockets go through trunk's proxies.
async fn dev_loop(
    shots: &Shots,
    server: &TestServer,
    trunk: &TrunkServe,
    room: &str,
    alice: &Browser,
    bob: &Browser,
) {
    alice.join_room(&trunk.url(""), room, "Alice").await;
    bob.join_room(&server.url(""), room, "Bob").await;
    for who in [alice, bob] {
        who.wait_for("Alice and Bob both present", |s| {
            s.presence_is(&["Alice", "Bob"])
        })
        .await;
        who.wait_doc("the document editor", wait::TIMEOUT, |d| d.text.is_some())
            .await;
    }
    shots.take("joined", &[alice, bob]).await;

    let (chat_a, chat_b) = ("devloop-chat-from-alice", "devloop-chat-from-bob");
    alice.send(chat_a, Via::Enter).await;
    bob.wait_for("Alice's message, through trunk's /ws proxy", |s| {
        s.confirmed(chat_a)
    })
    .await;
    bob.send(chat_b, Via::Enter).await;
    alice
        .wait_for("Bob's message, through trunk's /ws proxy", |s| {
            s.confirmed(chat_b)
        })
        .await;

    let (doc_a, doc_b) = ("alice-via-trunk;", "bob-direct;");
    alice.type_doc(doc_a).await;
    bob.wait_doc(
        "Alice's words, through trunk's /yjs proxy",
        wait::TIMEOUT,
        |d| d.text() == doc_a,
    )
    .await;
    bob.type_doc(doc_b).await;
    let both = format!("{doc_a}{doc_b}");
    alice
        .wait_doc(
            "Bob's words, through trunk's /yjs proxy",
            wait::TIMEOUT,
            |d| d.text() == both,
        )
        .await;
    shots.take("live", &[alice, bob]).await;
}
