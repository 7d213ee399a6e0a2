//! The page's weight on the wire, as Chromium's Navigation and Resource Timing report it
//! (`transferSize`: headers and body as they came over the network, 0 from the cache): the
//! first load of a room page within 330 KB — the precompressed assets — and a second load
//! that transfers only the page (its assets are `immutable` in the cache).

use serde_json::Value;
use tandem_e2e::{
    browser::{Browser, Snapshot},
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
};

/// The first load's budget, in bytes.
const FIRST_LOAD: u64 = 330_000;

/// What the page loaded: the navigation's transfer size, and each resource's
/// `(name, transferSize)`.
async fn transfers(who: &Browser) -> (u64, Vec<(String, u64)>) {
    let js = "const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource')
            .map(r => [r.name, r.transferSize]);
        return { nav: nav.transferSize, res };";
    let v: Value = who.eval(js, vec![]).await;
    let nav = v["nav"].as_u64().expect("a navigation entry");
    let res = v["res"]
        .as_array()
        .expect("resource entries")
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or("").to_owned(),
                r[1].as_u64().unwrap_or(0),
            )
        })
        .collect();
    (nav, res)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_page_loads_within_budget_and_then_from_the_cache() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("load");
    let server = TestServer::start().await;
    with_browsers(&shots, &["alice"], async |b: &[Browser]| {
        let alice = &b[0];
        let url = server.url("/r/load-room");
        alice.goto(&url).await;
        alice
            .wait_for("the page is up", |s: &Snapshot| s.in_room || s.join_form)
            .await;
        let (nav, res) = transfers(alice).await;
        let total = nav + res.iter().map(|(_, n)| n).sum::<u64>();
        eprintln!("first load: page {nav} B, {res:?}, total {total} B");
        assert!(
            res.iter().any(|(n, _)| n.ends_with(".wasm")),
            "the wasm was loaded: {res:?}"
        );
        assert!(
            total <= FIRST_LOAD,
            "first load {total} B > {FIRST_LOAD} B: {res:?}"
        );
        shots.take("first-load", &[alice]).await;

        // Somewhere else, then the room again: only the page comes over the network.
        alice.goto("about:blank").await;
        alice.goto(&url).await;
        alice
            .wait_for("the page is up again", |s: &Snapshot| {
                s.in_room || s.join_form
            })
            .await;
        let (nav, res) = transfers(alice).await;
        eprintln!("second load: page {nav} B, {res:?}");
        assert!(nav > 0, "the page itself is revalidated (no-cache)");
        let fetched: Vec<_> = res.iter().filter(|(_, n)| *n > 0).collect();
        assert!(
            fetched.is_empty(),
            "assets came from the cache: {fetched:?}"
        );
    })
    .await;
}
