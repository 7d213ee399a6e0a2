//! The page as people use it, in real browsers: nothing typed offline is lost when the tab
//! is closed or the browser restarted; leaving is seen at once (and coming back from the
//! back/forward cache too); scrolling back reaches the room's first message; Ctrl+Z undoes
//! only one's own edits; typing does not re-render the message list.
//!
//! Screenshots of each scenario go to `target/artifacts/e2e/`.

use std::{sync::Arc, time::Duration};
use tandem_e2e::{
    browser::{Browser, Via},
    proxy::Proxy,
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
    wait,
};
use tandem_server::store::{SqliteStore, Store};
use tandem_shared::{ids::RoomName, ChatMessage, Member};

/// How long the others may take to see someone leave: well under the server's heartbeat
/// timeout (10 s in these tests), so only the page closing its sockets can pass.
const LEAVE_SEEN_WITHIN: Duration = Duration::from_secs(4);

/// Alice and Bob (through a proxy that can cut his network) in `room`.
async fn in_room(server: &TestServer, proxy: &Proxy, b: &[Browser], room: &str) {
    b[0].join_room(&server.url(""), room, "Alice").await;
    b[1].join_room(&proxy.url(""), room, "Bob").await;
    for who in b {
        who.wait_for("Alice and Bob present", |s| {
            s.presence_is(&["Alice", "Bob"])
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_typed_offline_is_lost_when_the_tab_closes_or_the_browser_restarts() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("kept");
    let server = TestServer::start().await;
    let proxy = Proxy::start(server.addr()).await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        let (alice, bob) = (&b[0], &b[1]);
        let room = "kept-room";
        in_room(&server, &proxy, b, room).await;
        bob.type_doc("shared start. ").await;
        alice
            .wait_doc("Bob's first words", wait::TIMEOUT, |d| {
                d.count("shared start.") == 1
            })
            .await;

        for (round, how) in [(1, "tab closed"), (2, "browser restarted")] {
            let msg = format!("kept-msg-{round}");
            let edit = format!("kept-edit-{round} ");
            proxy.cut();
            bob.wait_for("cut off", |s| s.status.is_some() && !s.is_live())
                .await;
            bob.send(&msg, Via::Enter).await;
            bob.type_doc(&edit).await;
            bob.wait_doc("the offline edit shown", wait::TIMEOUT, |d| {
                d.count(&edit) == 1
            })
            .await;
            shots.take(&format!("offline-{round}"), &[alice, bob]).await;
            if round == 1 {
                bob.close_tab_for_a_new_one().await;
            } else {
                bob.restart().await;
            }
            proxy.restore();
            // Bob opens the room again; everything he typed arrives once.
            bob.join_room(&proxy.url(""), room, "Bob").await;
            for who in [alice, bob] {
                who.wait_for(&format!("{msg} once, confirmed ({how})"), |s| {
                    s.messages.iter().filter(|m| m.text.contains(&msg)).count() == 1
                        && s.confirmed(&msg)
                })
                .await;
                who.wait_doc(&format!("{edit:?} once ({how})"), wait::TIMEOUT, |d| {
                    d.count(&edit) == 1 && d.count("shared start.") == 1
                })
                .await;
            }
            shots.take(&format!("back-{round}"), &[alice, bob]).await;
        }
        // Nothing is sent twice later either (a further reload).
        bob.reload().await;
        bob.wait_for("live again after a reload", |s| s.in_room && s.is_live())
            .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let s = alice.snapshot().await;
        for round in [1, 2] {
            let msg = format!("kept-msg-{round}");
            let n = s.messages.iter().filter(|m| m.text.contains(&msg)).count();
            assert_eq!(n, 1, "alice: {msg} shown {n} times");
        }
        assert_eq!(alice.doc().await.count("kept-edit-1"), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_is_seen_at_once_and_the_back_button_brings_the_person_back() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("leave");
    let server = TestServer::start().await;
    let proxy = Proxy::start(server.addr()).await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        let (alice, bob) = (&b[0], &b[1]);
        in_room(&server, &proxy, b, "leave-room").await;
        bob.type_doc("bob was here").await;
        alice.wait_caret_of("Bob").await;
        // A mark that survives only if the page itself comes back from the cache.
        bob.eval("window.tandemMark = 'same page'; return null;", vec![])
            .await;

        // Bob goes to another page: his sockets close on `pagehide`.
        bob.goto(&server.url("/healthz")).await;
        alice
            .wait_for_within("Bob gone from presence", LEAVE_SEEN_WITHIN, |s| {
                s.presence_is(&["Alice"])
            })
            .await;
        alice
            .wait_doc("Bob's caret gone", LEAVE_SEEN_WITHIN, |d| {
                !d.carets.iter().any(|c| c == "Bob")
            })
            .await;
        shots.take("gone", &[alice]).await;

        // Back: the page is shown again (from the back/forward cache) and reconnects.
        bob.back().await;
        alice
            .wait_for("Bob back in presence", |s| s.presence_is(&["Alice", "Bob"]))
            .await;
        let restored = bob.eval("return window.tandemMark || null;", vec![]).await;
        assert_eq!(
            restored, "same page",
            "Chromium restored the page from its back/forward cache (else this tested a reload)"
        );
        bob.type_doc(" again").await;
        alice
            .wait_doc("Bob's edit after coming back", wait::TIMEOUT, |d| {
                d.count("bob was here again") == 1
            })
            .await;
        shots.take("back", &[alice, bob]).await;
    })
    .await;
}

/// `n` stored messages in `room`, as if people had written them.
fn seed(dir: &std::path::Path, room: &str, n: u64) {
    let store = SqliteStore::open(dir).expect("open the store");
    RoomName::new(room).expect("valid room");
    let msgs: Vec<Arc<ChatMessage>> = (1..=n)
        .map(|seq| {
            Arc::new(ChatMessage {
                room: room.to_owned(),
                seq,
                sender: Member {
                    id: "u-seed".into(),
                    name: "Seeder".into(),
                    role: None,
                },
                text: format!("old-{seq:04}"),
                ts: 1_700_000_000_000 + seq * 60_000,
                client_id: None,
            })
        })
        .collect();
    store.append(&msgs).expect("seed messages");
}

/// The `data-seq` of every confirmed message on the page, in page order.
const SEQS_JS: &str = r#"return Array.from(document.querySelectorAll('[data-testid="message"][data-seq]'))
    .map((e) => Number(e.getAttribute("data-seq")));"#;

/// Scroll the list to its top; return the seq of the first message and its distance from
/// the top of the list's box (px), measured once scrolled.
const TOP_JS: &str = r#"const l = document.querySelector('[data-testid="message-list"]');
l.scrollTop = 0;
const m = l.querySelector('[data-testid="message"][data-seq]');
return [Number(m.getAttribute("data-seq")), m.getBoundingClientRect().top - l.getBoundingClientRect().top];"#;

/// Where the message with seq `arguments[0]` is now, from the top of the list's box (px).
const WHERE_JS: &str = r#"const l = document.querySelector('[data-testid="message-list"]');
const m = l.querySelector(`[data-testid="message"][data-seq="${arguments[0]}"]`);
return m ? m.getBoundingClientRect().top - l.getBoundingClientRect().top : null;"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrolling_back_reaches_the_first_message_and_keeps_the_reading_position() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("scrollback");
    let room = "long-room";
    let server = TestServer::start_with(|config| seed(&config.data_dir, room, 350)).await;
    with_browsers(&shots, &["alice"], async |b: &[Browser]| {
        let alice = &b[0];
        alice.join_room(&server.url(""), room, "Alice").await;
        alice
            .wait_for("the recent messages", |s| s.confirmed("old-0350"))
            .await;
        let seqs = |v: serde_json::Value| -> Vec<u64> {
            serde_json::from_value(v).expect("a list of seqs")
        };
        let first_shown = seqs(alice.eval(SEQS_JS, vec![]).await)[0];
        assert!(first_shown > 1, "the join gave only the recent tail");
        let mut pages = 0;
        loop {
            let top = alice.eval(TOP_JS, vec![]).await;
            let (seq, at) = (top[0].as_u64().unwrap(), top[1].as_f64().unwrap());
            if seq == 1 {
                break;
            }
            // The page of older messages arrives above; the message read stays put.
            let moved = wait::until(
                "older messages above, the reading position kept",
                wait::TIMEOUT,
                || async {
                    let first = seqs(alice.eval(SEQS_JS, vec![]).await)[0];
                    let now = alice.eval(WHERE_JS, vec![seq.into()]).await.as_f64();
                    (first, now)
                },
                |(first, now)| *first < seq && now.is_some(),
            )
            .await;
            let now = moved.1.unwrap();
            assert!(
                (now - at).abs() <= 2.0,
                "message {seq} was at {at}px from the top and is now at {now}px"
            );
            pages += 1;
            assert!(pages <= 10, "paging back ends");
            if pages == 1 {
                shots.take("older", &[alice]).await;
            }
        }
        let all = seqs(alice.eval(SEQS_JS, vec![]).await);
        assert_eq!(
            all,
            (1..=350).collect::<Vec<_>>(),
            "every message once, in order"
        );
        alice
            .wait_for("the start of the room is said", |_| true)
            .await;
        let start = alice
            .eval(
                r#"return !!document.querySelector('[data-testid="history-start"]');"#,
                vec![],
            )
            .await;
        assert_eq!(start, true, "history-start shown at the first message");
        shots.take("first", &[alice]).await;
    })
    .await;
}
