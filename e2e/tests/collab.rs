//! The collaborative page, end to end: two people in two real browsers (headless Chromium
//! over WebDriver) on the real server, through a network cut and a server restart.
//!
//! Each scenario saves screenshots of both browsers at its key moments in
//! `target/artifacts/e2e/` (and more, named `…-failed-…`, when it fails).

use tandem_e2e::{
    browser::{Browser, Snapshot, Via},
    proxy::Proxy,
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
};

/// Fixed-width, so that no token is a substring of another.
fn token(scenario: &str, n: u32) -> String {
    format!("{scenario}-msg-{n:03}")
}

/// Confirmed messages have strictly increasing `seq`s in page order.
fn assert_seq_increasing(who: &str, seen: &[(String, Option<u64>)]) {
    let seqs: Vec<u64> = seen
        .iter()
        .map(|(t, s)| s.unwrap_or_else(|| panic!("{who}: {t} is not confirmed")))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "{who}: seqs not increasing in page order: {seen:?}"
    );
}

async fn both(alice: &Browser, bob: &Browser, what: &str, done: impl Fn(&Snapshot) -> bool) {
    alice.wait_for(what, &done).await;
    bob.wait_for(what, &done).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_cut_loses_and_duplicates_nothing() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("network-cut");
    let server = TestServer::start().await;
    let proxy = Proxy::start(server.addr()).await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        network_cut(&shots, &server, &proxy, &b[0], &b[1]).await
    })
    .await;
}

/// Alice and Bob join a room and talk; Bob's network is cut (his page and socket go through
/// a proxy); Alice keeps sending and Bob types while offline; once his network is back Bob
/// shows every message exactly once, in order, and Alice gets Bob's offline message once.
async fn network_cut(
    shots: &Shots,
    server: &TestServer,
    proxy: &Proxy,
    alice: &Browser,
    bob: &Browser,
) {
    let room = "cut-room";
    let t = |n| token("cut", n);
    let universe: Vec<String> = (1..=12).map(t).collect();

    alice.join_room(&server.url(""), room, "Alice").await;
    bob.join_room(&proxy.url(""), room, "Bob").await;
    both(alice, bob, "Alice and Bob both present", |s| {
        s.presence_is(&["Alice", "Bob"])
    })
    .await;
    shots.take("joined", &[alice, bob]).await;

    let mut expected = Vec::new();
    for (who, n, via) in [
        (alice, 1, Via::Enter),
        (alice, 2, Via::Button),
        (bob, 3, Via::Enter),
    ] {
        who.send(&t(n), via).await;
        expected.push(t(n));
    }
    both(alice, bob, "messages 1-3 once each, in order", |s| {
        s.shows_exactly(&expected)
    })
    .await;
    shots.take("chatting", &[alice, bob]).await;

    // Cut Bob's network: his socket drops and his reconnection attempts fail.
    let dropped = proxy.cut();
    assert!(dropped > 0, "Bob's connections went through the proxy");
    bob.wait_for("not live once cut off", |s| {
        s.status.is_some() && !s.is_live()
    })
    .await;
    alice
        .wait_for("Bob gone from presence", |s| s.presence_is(&["Alice"]))
        .await;

    // Alice keeps sending; Bob writes while offline.
    for n in 4..=8 {
        alice.send(&t(n), Via::Enter).await;
        alice
            .wait_for(&format!("{} confirmed", t(n)), |s| s.confirmed(&t(n)))
            .await;
        expected.push(t(n));
    }
    bob.send(&t(9), Via::Enter).await;
    let offline = bob.snapshot().await;
    assert!(
        !offline.is_live(),
        "Bob is still cut off: {:?}",
        offline.status
    );
    assert!(
        !offline.confirmed(&t(9)),
        "nothing can confirm Bob's message while he is cut off"
    );
    assert_eq!(
        offline.tokens(&universe),
        [t(1), t(2), t(3), t(9)],
        "Bob sees what he had, and his own unsent message"
    );
    shots.take("cut-off", &[alice, bob]).await;

    // Network back: Bob reconnects by himself, catches up, and sends his message once.
    proxy.restore();
    expected.push(t(9));
    bob.wait_for("live again", Snapshot::is_live).await;
    both(alice, bob, "all 9 messages once each, in order", |s| {
        s.shows_exactly(&expected)
    })
    .await;
    both(alice, bob, "Alice and Bob both present again", |s| {
        s.presence_is(&["Alice", "Bob"])
    })
    .await;
    shots.take("reconnected", &[alice, bob]).await;

    // Traffic flows both ways after the reconnect, and nothing arrives twice late.
    bob.send(&t(10), Via::Button).await;
    expected.push(t(10));
    alice.send(&t(11), Via::Enter).await;
    expected.push(t(11));
    both(alice, bob, "all 11 messages once each, in order", |s| {
        s.shows_exactly(&expected)
    })
    .await;
    let (a, b) = (alice.snapshot().await, bob.snapshot().await);
    assert_eq!(
        a.tokens(&universe),
        b.tokens(&universe),
        "both pages show the same messages"
    );
    assert_eq!(a.sequenced(&universe), b.sequenced(&universe), "same seqs");
    assert_seq_increasing("Alice", &a.sequenced(&universe));
    shots.take("after", &[alice, bob]).await;

    // Bob closes his tab: Alice sees him leave.
    bob.close_tab().await;
    alice
        .wait_for("Bob gone after he closed his tab", |s| {
            s.presence_is(&["Alice"])
        })
        .await;
    shots.take("bob-left", &[alice]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_loses_and_duplicates_nothing() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("server-restart");
    let mut server = TestServer::start().await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        server_restart(&shots, &mut server, &b[0], &b[1]).await
    })
    .await;
}

/// Alice and Bob talk; the server stops (its `run` cancelled) while both write a message;
/// it starts again on the same port and data directory; both pages reconnect by themselves
/// and show every message exactly once, in the same order.
async fn server_restart(shots: &Shots, server: &mut TestServer, alice: &Browser, bob: &Browser) {
    let room = "restart-room";
    let t = |n| token("restart", n);
    let universe: Vec<String> = (1..=7).map(t).collect();

    alice.join_room(&server.url(""), room, "Alice").await;
    bob.join_room(&server.url(""), room, "Bob").await;
    both(alice, bob, "Alice and Bob both present", |s| {
        s.presence_is(&["Alice", "Bob"])
    })
    .await;
    alice.send(&t(1), Via::Enter).await;
    bob.send(&t(2), Via::Button).await;
    alice.send(&t(3), Via::Enter).await;
    let before = [t(1), t(2), t(3)];
    both(alice, bob, "messages 1-3 once each, in order", |s| {
        s.shows_exactly(&before)
    })
    .await;
    shots.take("before-restart", &[alice, bob]).await;

    server.stop().await;
    both(alice, bob, "not live while the server is down", |s| {
        s.status.is_some() && !s.is_live()
    })
    .await;
    alice.send(&t(4), Via::Enter).await;
    bob.send(&t(5), Via::Enter).await;
    for (who, n) in [(alice, 4), (bob, 5)] {
        let s = who.snapshot().await;
        assert!(
            !s.confirmed(&t(n)),
            "{}: nothing can confirm {} while the server is down",
            who.who,
            t(n)
        );
    }
    shots.take("server-down", &[alice, bob]).await;

    server.start_again().await;
    both(
        alice,
        bob,
        "live again after the restart",
        Snapshot::is_live,
    )
    .await;
    let all5 = &universe[..5];
    both(alice, bob, "messages 1-5 confirmed, once each", |s| {
        let mut seen = s.tokens(all5);
        seen.sort();
        seen == all5 && all5.iter().all(|t| s.confirmed(t))
    })
    .await;
    // The two offline messages may have reached the server in either order, but both pages
    // show the server's order.
    let order = alice.snapshot().await.tokens(all5);
    assert_eq!(
        order[..3],
        before,
        "the history before the restart is intact"
    );
    bob.wait_for("the same order as Alice", |s| s.shows_exactly(&order))
        .await;
    both(alice, bob, "Alice and Bob both present again", |s| {
        s.presence_is(&["Alice", "Bob"])
    })
    .await;
    shots.take("after-restart", &[alice, bob]).await;

    let mut expected = order;
    alice.send(&t(6), Via::Enter).await;
    expected.push(t(6));
    bob.send(&t(7), Via::Button).await;
    expected.push(t(7));
    both(alice, bob, "all 7 messages once each, in order", |s| {
        s.shows_exactly(&expected)
    })
    .await;
    let (a, b) = (alice.snapshot().await, bob.snapshot().await);
    assert_eq!(a.sequenced(&universe), b.sequenced(&universe), "same seqs");
    assert_seq_increasing("Alice", &a.sequenced(&universe));
    shots.take("after", &[alice, bob]).await;
}
