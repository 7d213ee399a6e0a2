//! A big room, end to end: a crowd of plain WebSocket members (more than the server lists)
//! and one person in a real browser. The page shows exactly how many are here while listing
//! only some; "Show more" pages in the rest, each once; the search filters the listed; when
//! part of the crowd leaves at once the count follows within seconds; chat still works.
//!
//! The server lists at most `LIST_MAX` (20 here, instead of 100) so a small crowd is big.
//! Screenshots in `target/artifacts/e2e/big-room-*.png`.

#[path = "big_room/crowd.rs"]
mod crowd;

use std::collections::HashSet;
use std::time::{Duration, Instant};
use tandem_e2e::{
    browser::{Browser, Via},
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
};
use tokio::sync::mpsc;

const LIST_MAX: usize = 20;
const CROWD: usize = 60;
const LEAVING: usize = 20;
/// What must happen promptly (the server coalesces presence per 100 ms tick).
const PROMPTLY: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_room_shows_its_count_and_pages_in_everyone() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("big-room");
    let server = TestServer::start_with(|config| config.presence_list_max = LIST_MAX).await;
    let started = Instant::now();
    let (heard_tx, heard) = mpsc::unbounded_channel();
    let url = format!("ws://{}/ws", server.addr());
    let crowd = crowd::join(&url, "big-room", CROWD, heard_tx).await;
    eprintln!("{CROWD} members joined in {:?}", started.elapsed());
    with_browsers(&shots, &["ann"], async |b: &[Browser]| {
        big_room(&shots, &server, crowd, heard, &b[0]).await
    })
    .await;
    eprintln!("big room scenario: {:?}", started.elapsed());
}

async fn big_room(
    shots: &Shots,
    server: &TestServer,
    mut crowd: Vec<crowd::Member>,
    mut heard: mpsc::UnboundedReceiver<String>,
    ann: &Browser,
) {
    let everyone = CROWD as u64 + 1;
    // Wide: the people are a column beside the chat and the document.
    ann.resize(1400, 900).await;
    ann.join_room(&server.url(""), "big-room", "Ann").await;

    // The exact count, a bounded list (the server's first page, and Ann herself).
    let first = ann
        .wait_presence("the exact count", PROMPTLY, |p| p.count == Some(everyone))
        .await;
    assert_eq!(first.count_text.as_deref(), Some("61"));
    assert!(
        first.listed() <= LIST_MAX + 1 && first.listed() >= LIST_MAX,
        "a bounded list: {first:#?}"
    );
    assert!(first.each_once(), "each once: {first:#?}");
    assert!(
        first.more && first.search,
        "Show more and search: {first:#?}"
    );
    assert_eq!(
        first.shown.as_deref(),
        Some(format!("Showing {} of {everyone}", first.listed()).as_str())
    );
    shots.take("bounded", &[ann]).await;
    ann.resize(400, 800).await;
    shots.take("bounded-phone", &[ann]).await;
    ann.resize(1400, 900).await;

    // "Show more" pages in the rest until everyone is listed, each once.
    let pages = show_all(ann).await;
    assert!(pages <= CROWD / LIST_MAX + 1, "{pages} pages for {CROWD}");
    let all = ann.presence().await;
    assert_eq!(all.listed() as u64, everyone, "everyone listed: {all:#?}");
    assert!(all.each_once(), "each once: {all:#?}");
    let listed: HashSet<&str> = all.ids.iter().map(String::as_str).collect();
    for m in &crowd {
        assert!(
            listed.contains(m.id.as_str()),
            "{} ({}) is listed",
            m.name,
            m.id
        );
    }
    assert_eq!(all.names.iter().filter(|n| *n == "Ann").count(), 1);
    assert!(all.shown.is_none(), "all shown: no \"Showing n of m\"");
    assert!(all.search, "the search box stays");
    assert!(all.scrolls, "61 people scroll in the panel");
    shots.take("all-listed", &[ann]).await;

    // The search filters the listed by name.
    ann.fill("presence-search", "member 05").await;
    let found = ann
        .wait_presence("the search filters", PROMPTLY, |p| p.listed() == 10)
        .await;
    let expected: Vec<String> = (50..60).map(|i| format!("Member {i:03}")).collect();
    let mut names = found.names.clone();
    names.sort();
    assert_eq!(names, expected);
    assert_eq!(found.count, Some(everyone), "the count is everyone's still");
    shots.take("search", &[ann]).await;
    ann.fill("presence-search", "nobody by that name").await;
    ann.wait_presence("nothing matches", PROMPTLY, |p| p.listed() == 0)
        .await;
    clear_search(ann).await;
    ann.wait_presence("the search cleared", PROMPTLY, |p| {
        p.listed() as u64 == everyone
    })
    .await;

    // A third of the crowd disconnects at once: the count and the list follow.
    let leaving: Vec<crowd::Member> = crowd.drain(CROWD - LEAVING..).collect();
    let gone: HashSet<String> = leaving.iter().map(|m| m.id.clone()).collect();
    let left_at = Instant::now();
    for m in &leaving {
        m.leave();
    }
    let remaining = everyone - LEAVING as u64;
    ann.wait_presence("the count after the leaves", PROMPTLY, |p| {
        p.count == Some(remaining)
    })
    .await;
    eprintln!("the page showed {remaining} within {:?}", left_at.elapsed());
    // The leaves come in `presence` frames (or, were there too many for one, in a resync
    // that lists the first page afresh: then "Show more" pages in the rest again).
    let after = ann
        .wait_presence("the list after the leaves", PROMPTLY, |p| {
            p.listed() as u64 == remaining || p.more
        })
        .await;
    if after.more {
        show_all(ann).await;
    }
    let after = ann.presence().await;
    assert_eq!(after.listed() as u64, remaining, "{after:#?}");
    assert!(
        after.ids.iter().all(|id| !gone.contains(id)),
        "no one who left is listed: {after:#?}"
    );
    assert!(!after.more, "everyone is listed: {after:#?}");
    for m in leaving {
        m.gone().await;
    }
    shots.take("after-leaves", &[ann]).await;

    // Chat still works, both ways.
    crowd[0].chat("hello from the crowd");
    ann.wait_for("the crowd's message", |s| {
        s.messages
            .iter()
            .any(|m| m.text.contains("hello from the crowd"))
    })
    .await;
    ann.send("hello crowd", Via::Enter).await;
    ann.wait_for("Ann's message confirmed", |s| s.confirmed("hello crowd"))
        .await;
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    loop {
        let text = tokio::time::timeout_at(deadline, heard.recv())
            .await
            .expect("the crowd hears Ann within seconds")
            .expect("the first member is still there");
        if text == "hello crowd" {
            break;
        }
    }
    shots.take("chat", &[ann]).await;

    // The same panel in the dark; then narrower (people in a row above the panes), and on a
    // phone's width (chat and document one at a time).
    ann.dark().await;
    shots.take("dark", &[ann]).await;
    for (width, moment) in [(1000, "row-dark"), (600, "phone-dark")] {
        ann.resize(width, 800).await;
        let shown = ann.presence().await;
        assert_eq!(shown.count, Some(remaining), "{moment}: {shown:#?}");
        shots.take(moment, &[ann]).await;
    }
}

/// Click "Show more" until everyone is listed; each page must list more, each person once.
/// Returns how many pages it took.
async fn show_all(ann: &Browser) -> usize {
    let mut seen = ann.presence().await.listed();
    let mut pages = 0;
    while ann.presence().await.more {
        ann.click("presence-more").await;
        pages += 1;
        let now = ann
            .wait_presence("the next page listed", PROMPTLY, |p| {
                p.listed() > seen || !p.more
            })
            .await;
        seen = now.listed();
        assert!(now.each_once(), "each once after page {pages}: {now:#?}");
        assert!(pages <= CROWD, "Show more never ends: {now:#?}");
    }
    pages
}

/// Empty the search box as a person would: Ctrl+A, then Backspace (each keystroke an
/// `input` event, which WebDriver's "clear" does not send).
async fn clear_search(ann: &Browser) {
    let (ctrl, release, backspace) = ("\u{E009}", "\u{E000}", "\u{E003}");
    ann.type_into("presence-search", &format!("{ctrl}a{release}{backspace}"))
        .await;
}
