//! The room's shared document, end to end: two people typing into it at once in two real
//! browsers, one of them offline for a while, each seeing the other's caret, a reload; a
//! stock Yjs client (`yjs` + `y-websocket` under Node.js) editing it beside a browser; and a
//! stock editor's caret plugin reading the page's caret (as y-codemirror.next does) while the
//! page draws its caret.
//!
//! The page's contract: `doc-editor` (a textarea bound to the room's Y.Text "content") and a
//! `doc-caret` with `data-name` for each other person's caret. Screenshots go to
//! `target/artifacts/e2e/doc-*.png` (`…-failed-…` when a step fails).

use std::time::Duration;
use tandem_e2e::{
    browser::{Browser, DocView, Snapshot},
    node::NodePeer,
    proxy::Proxy,
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
    wait,
};

/// How long two documents may take to merge: a reconnecting editor waits out its backoff.
const MERGE: Duration = Duration::from_secs(60);

/// `s` cut into pieces of `n` characters, typed one piece at a time so that two people's
/// typing interleaves.
fn pieces(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

/// Both type their pieces at the same time: piece `i` of each is sent concurrently, piece
/// `i + 1` once both are typed.
async fn type_together(alice: &Browser, a: &str, bob: &Browser, b: &str) {
    let (a, b) = (pieces(a, 4), pieces(b, 4));
    for i in 0..a.len().max(b.len()) {
        let type_a = async {
            if let Some(p) = a.get(i) {
                alice.type_doc(p).await;
            }
        };
        let type_b = async {
            if let Some(p) = b.get(i) {
                bob.type_doc(p).await;
            }
        };
        tokio::join!(type_a, type_b);
    }
}

/// Each of `parts` exactly once, and nothing else: the text is as long as all of them.
fn holds_each_once(doc: &DocView, parts: &[&str]) -> bool {
    let len: usize = parts.iter().map(|p| p.encode_utf16().count()).sum();
    doc.text().encode_utf16().count() == len && parts.iter().all(|p| doc.count(p) == 1)
}

/// Poll both until they show the same text holding each of `parts` exactly once; returns
/// that text.
async fn converge(alice: &Browser, bob: &Browser, parts: &[&str]) -> String {
    let what = format!("both editors equal, each of {parts:?} once");
    let (a, _) = wait::until(
        &what,
        MERGE,
        || async { (alice.doc().await, bob.doc().await) },
        |(a, b)| a.text.is_some() && a.text == b.text && holds_each_once(a, parts),
    )
    .await;
    a.text().to_owned()
}

/// Both in `room`, each with the document editor on the page.
async fn join_both(alice: &Browser, alice_base: &str, bob: &Browser, bob_base: &str, room: &str) {
    alice.join_room(alice_base, room, "Alice").await;
    bob.join_room(bob_base, room, "Bob").await;
    for who in [alice, bob] {
        who.wait_doc("the document editor", wait::TIMEOUT, |d| d.text.is_some())
            .await;
    }
}

/// Alice puts a line in the document and her caret before it; once Bob sees the line he
/// starts typing after it (his first keys put his caret at the end). So Alice writes above
/// the line and Bob below it, and each one's typing reaches the other before the scenario
/// goes on. Returns the line.
async fn set_up_places(alice: &Browser, bob: &Browser, line: &'static str) -> &'static str {
    alice.type_doc(line).await;
    alice.doc_caret_to_start().await;
    bob.wait_doc("Alice's line", wait::TIMEOUT, |d| d.text() == line)
        .await;
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_typing_at_once_converge_and_see_each_others_carets() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("doc-together");
    let server = TestServer::start().await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        typing_together(&shots, &server, &b[0], &b[1]).await
    })
    .await;
}

/// Alice and Bob type into the document at the same time, each a sentence of their own;
/// both editors end with the same text, holding each sentence whole, once. Each sees the
/// other's caret. Alice reloads her page: the text is still there.
async fn typing_together(shots: &Shots, server: &TestServer, alice: &Browser, bob: &Browser) {
    let base = server.url("");
    join_both(alice, &base, bob, &base, "doc-together").await;
    let line = set_up_places(alice, bob, "|middle line|").await;

    let a = "Alice writes this sentence above the line. ";
    let b = " Bob writes that sentence below it.";
    type_together(alice, a, bob, b).await;
    let text = converge(alice, bob, &[a, line, b]).await;
    assert_eq!(
        text,
        format!("{a}{line}{b}"),
        "each sentence where its writer's caret was"
    );

    alice.wait_caret_of("Bob").await;
    bob.wait_caret_of("Alice").await;
    shots.take("typed", &[alice, bob]).await;

    alice.reload().await;
    alice
        .wait_for("back in the room after the reload", |s: &Snapshot| {
            s.in_room && s.is_live()
        })
        .await;
    alice
        .wait_doc("the same text after the reload", wait::TIMEOUT, |d| {
            d.text() == text
        })
        .await;
    // Bob is still there, and still writing: it reaches Alice's reloaded page.
    bob.type_doc(" And more.").await;
    let more = format!("{text} And more.");
    alice
        .wait_doc("Bob's words after the reload", wait::TIMEOUT, |d| {
            d.text() == more
        })
        .await;
    alice.wait_caret_of("Bob").await;
    shots.take("reloaded", &[alice, bob]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_merge_once_after_a_network_cut() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("doc-offline");
    let server = TestServer::start().await;
    let proxy = Proxy::start(server.addr()).await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        offline_edits(&shots, &server, &proxy, &b[0], &b[1]).await
    })
    .await;
}

/// Alice and Bob write in the document; Bob's network is cut (his page and sockets go
/// through a proxy) and both go on typing; while cut neither sees the other's new words;
/// once the network is back both editors show the same text with every word exactly once.
async fn offline_edits(
    shots: &Shots,
    server: &TestServer,
    proxy: &Proxy,
    alice: &Browser,
    bob: &Browser,
) {
    join_both(alice, &server.url(""), bob, &proxy.url(""), "doc-offline").await;
    let line = set_up_places(alice, bob, "|line|").await;

    let (a1, b1) = ("Alice online. ", " Bob online.");
    type_together(alice, a1, bob, b1).await;
    converge(alice, bob, &[a1, line, b1]).await;
    shots.take("online", &[alice, bob]).await;

    let dropped = proxy.cut();
    assert!(dropped > 0, "Bob's connections went through the proxy");
    bob.wait_for("not live once cut off", |s| {
        s.status.is_some() && !s.is_live()
    })
    .await;

    // Both keep writing, Bob without a network.
    let (a2, b2) = (
        "Alice goes on while Bob is away. ",
        " Bob writes offline, and more, and more.",
    );
    type_together(alice, a2, bob, b2).await;
    let (a3, b3) = ("Alice again. ", " Bob still offline.");
    type_together(alice, a3, bob, b3).await;
    let alice_view = format!("{a1}{a2}{a3}{line}{b1}");
    let bob_view = format!("{a1}{line}{b1}{b2}{b3}");
    alice
        .wait_doc("her own words only", wait::TIMEOUT, |d| {
            d.text() == alice_view
        })
        .await;
    let offline = bob.doc().await;
    assert_eq!(
        offline.text(),
        bob_view,
        "Bob sees his own words and none of Alice's new ones"
    );
    assert!(!bob.snapshot().await.is_live(), "Bob is still cut off");
    shots.take("cut-off", &[alice, bob]).await;

    proxy.restore();
    let all = [a1, a2, a3, line, b1, b2, b3];
    let text = converge(alice, bob, &all).await;
    assert_eq!(
        text,
        format!("{a1}{a2}{a3}{line}{b1}{b2}{b3}"),
        "each one's words where their caret was"
    );
    bob.wait_for("live again", Snapshot::is_live).await;
    shots.take("merged", &[alice, bob]).await;

    // Both still write, and it flows both ways.
    let (a4, b4) = ("Back together. ", " Yes.");
    type_together(alice, a4, bob, b4).await;
    let text = converge(alice, bob, &[a1, a2, a3, a4, line, b1, b2, b3, b4]).await;
    assert_eq!(text, format!("{a1}{a2}{a3}{a4}{line}{b1}{b2}{b3}{b4}"));
    alice.wait_caret_of("Bob").await;
    bob.wait_caret_of("Alice").await;
    shots.take("after", &[alice, bob]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_yjs_client_and_the_page_see_each_others_edits() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("doc-interop");
    let server = TestServer::start().await;
    with_browsers(&shots, &["alice"], async |b: &[Browser]| {
        stock_client(&shots, &server, &b[0]).await
    })
    .await;
}

/// Alice writes in the page; a stock Yjs client (`browser-peer.mjs`: `yjs` + `y-websocket`
/// in Node.js, as "Node") joins the room's document, finds her words, appends its own and
/// publishes its caret; Alice's page shows both; Alice answers; the Node client gets the
/// answer and ends with the text Alice's page shows.
async fn stock_client(shots: &Shots, server: &TestServer, alice: &Browser) {
    let room = "doc-interop";
    alice.join_room(&server.url(""), room, "Alice").await;
    alice
        .wait_doc("the document editor", wait::TIMEOUT, |d| d.text.is_some())
        .await;
    let (first, from_node, answer) = ("browser-first;", "node-says;", "browser-answers;");
    alice.type_doc(first).await;

    let ws_base = format!("ws://{}/yjs", server.addr());
    let mut node = NodePeer::start(&ws_base, room, "Node", from_node, answer, MERGE).await;
    let seen = wait::until(
        "Alice: the Node client's words",
        MERGE,
        || {
            let exited = node.exited();
            async move { (exited, alice.doc().await) }
        },
        |(exited, d)| *exited || d.text().contains(from_node),
    )
    .await;
    if seen.0 {
        let out = node.finish(Duration::from_secs(5)).await;
        panic!("the Node client ended early: {out:#?}");
    }
    // Whether the Node client synced before or after Alice's words reached the server, both
    // are there once (the order is the CRDT's, not this test's).
    assert!(
        holds_each_once(&seen.1, &[first, from_node]),
        "Alice's words and the Node client's, once each: {:?}",
        seen.1.text()
    );
    alice.wait_caret_of("Node").await;
    shots.take("node-joined", &[alice]).await;

    alice.type_doc(answer).await;
    let out = node.finish(MERGE).await;
    assert!(out.success, "the Node client failed: {out:#?}");
    let node_text = out
        .final_text()
        .unwrap_or_else(|| panic!("the Node client printed its text: {out:#?}"));
    for part in [first, from_node, answer] {
        assert_eq!(
            node_text.matches(part).count(),
            1,
            "{part:?} once in the Node client's text {node_text:?}"
        );
    }
    alice
        .wait_doc("the Node client's text", wait::TIMEOUT, |d| {
            d.text() == node_text
        })
        .await;
    shots.take("answered", &[alice]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_editor_reads_the_pages_caret_at_the_end_and_the_page_shows_its_own() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("doc-carets");
    let server = TestServer::start().await;
    with_browsers(&shots, &["alice"], async |b: &[Browser]| {
        stock_carets(&shots, &server, &b[0]).await
    })
    .await;
}

/// Carets both ways with a stock editor (issue 7): Alice types, so her caret is at the end
/// of the text, the place where y-codemirror.next's remote-caret plugin used to throw on the
/// page's relative position and switch itself off. A stock editor's caret plugin
/// (`caret-peer.mjs`, as "Node": `yjs` + `y-websocket` in Node.js, resolving her awareness
/// `cursor` exactly as y-codemirror.next does) must find her caret at the end of the text;
/// then it publishes its own selection as stock editors do, and Alice's page must draw it.
async fn stock_carets(shots: &Shots, server: &TestServer, alice: &Browser) {
    let room = "doc-carets";
    alice.join_room(&server.url(""), room, "Alice").await;
    alice
        .wait_doc("the document editor", wait::TIMEOUT, |d| d.text.is_some())
        .await;
    let (typed, done) = ("Alice's caret is at the end.", " Done.");
    alice.type_doc(typed).await;
    let end = typed.encode_utf16().count() as u32;
    alice
        .wait_doc("her text, her caret after it", wait::TIMEOUT, |d| {
            d.text() == typed && d.focused && d.selection == Some((end, end))
        })
        .await;

    let ws_base = format!("ws://{}/yjs", server.addr());
    let mut node =
        NodePeer::caret_reader(&ws_base, room, "Node", "Alice", typed, done, MERGE).await;
    // Node publishes its caret only after it has read Alice's, so her page showing it means
    // that read is done; if Node gave up instead, say why.
    let (exited, _) = wait::until(
        "Alice: the stock editor's caret",
        MERGE,
        || {
            let exited = node.exited();
            async move { (exited, alice.shows_caret_of("Node").await) }
        },
        |(exited, shown)| *exited || *shown,
    )
    .await;
    if exited {
        let out = node.finish(Duration::from_secs(5)).await;
        panic!("the stock editor ended early: {out:#?}");
    }
    shots.take("carets", &[alice]).await;

    alice.type_doc(done).await;
    let out = node.finish(MERGE).await;
    assert!(out.success, "the stock editor failed: {out:#?}");
    let read = out
        .caret_read()
        .unwrap_or_else(|| panic!("the stock editor printed what it read: {out:#?}"));
    assert_eq!(
        (&read["anchor"], &read["head"], &read["length"]),
        (&end.into(), &end.into(), &end.into()),
        "Alice's caret resolved at the end of the text: {read}"
    );
    // On the wire, as `JSON.stringify` of a stock editor's `Y.RelativePosition`: the end of
    // the text is the text itself, with `item` (and `type`) null, not missing.
    let at_end = serde_json::json!({"type": null, "tname": "content", "item": null, "assoc": 0});
    assert_eq!(
        read["cursor"],
        serde_json::json!({"anchor": at_end, "head": at_end}),
        "Alice's awareness cursor"
    );
    assert_eq!(
        out.final_text().as_deref(),
        Some(&*format!("{typed}{done}"))
    );
    // (Its caret has left with it: y-websocket removes its awareness state when it ends.)
}
