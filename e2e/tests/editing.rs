//! Editing as people do it, in real browsers: Ctrl/Cmd+Z and Ctrl/Cmd+Shift+Z (and Ctrl+Y)
//! undo and redo only one's own document edits, across the others' edits; and typing in the
//! message box does not re-render the message list (`data-renders` counts its renders).
//!
//! Screenshots of each scenario go to `target/artifacts/e2e/`.

use fantoccini::key::Key;
use std::time::Duration;
use tandem_e2e::{
    browser::{Browser, Via},
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
    wait,
};

/// Longer than the undo manager's capture window (500 ms): the next edit is its own step.
const NEW_STEP: Duration = Duration::from_millis(800);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_and_redo_take_back_only_ones_own_edits() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("undo");
    let server = TestServer::start().await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        let (alice, bob) = (&b[0], &b[1]);
        for (who, name) in [(alice, "Alice"), (bob, "Bob")] {
            who.join_room(&server.url(""), "undo-room", name).await;
        }
        let both = |what: &'static str, text: &'static str| async move {
            for who in [alice, bob] {
                who.wait_doc(what, wait::TIMEOUT, |d| d.text() == text)
                    .await;
            }
        };
        alice.type_doc("alice-one ").await;
        both("Alice's first words", "alice-one ").await;
        tokio::time::sleep(NEW_STEP).await;
        alice.type_doc("alice-two ").await;
        both("Alice's second words", "alice-one alice-two ").await;
        // Bob writes at the start meanwhile: a remote edit between Alice's and her undo.
        bob.doc_caret_to_start().await;
        bob.type_doc("bob ").await;
        both("Bob's word in front", "bob alice-one alice-two ").await;
        shots.take("typed", &[alice, bob]).await;

        let ctrl = |k: &str| Key::Control + k;
        alice.type_doc(&ctrl("z")).await;
        both(
            "Alice's last step undone, Bob's word kept",
            "bob alice-one ",
        )
        .await;
        alice.type_doc(&ctrl("z")).await;
        both("Alice's first step undone too", "bob ").await;
        shots.take("undone", &[alice, bob]).await;
        // Nothing of Alice's is left to undo: Bob's word stays.
        alice.type_doc(&ctrl("z")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        both("Bob's word never undone by Alice", "bob ").await;

        let ctrl_shift_z = format!("{}{}z", char::from(Key::Control), char::from(Key::Shift));
        alice.type_doc(&ctrl_shift_z).await;
        both("redo (Ctrl+Shift+Z)", "bob alice-one ").await;
        alice.type_doc(&ctrl("y")).await;
        both("redo (Ctrl+Y)", "bob alice-one alice-two ").await;
        // Bob's own undo takes back his word only.
        bob.type_doc(&ctrl("z")).await;
        both("Bob's undo", "alice-one alice-two ").await;
        shots.take("redone", &[alice, bob]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_in_the_composer_does_not_re_render_the_message_list() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("renders");
    let server = TestServer::start().await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        let (alice, bob) = (&b[0], &b[1]);
        for (who, name) in [(alice, "Alice"), (bob, "Bob")] {
            who.join_room(&server.url(""), "renders-room", name).await;
        }
        for n in 1..=5 {
            let text = format!("renders-msg-{n}");
            bob.send(&text, Via::Enter).await;
            alice
                .wait_for("Bob's message", |s| s.confirmed(&text))
                .await;
        }
        // Let the page settle (the last render of the list is done).
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = alice.list_renders().await;
        let draft = "a long draft, typed key by key and never sent";
        alice.type_composer(draft).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = alice.list_renders().await;
        shots.take("drafted", &[alice]).await;
        assert_eq!(
            after,
            before,
            "typing {} characters re-rendered the message list {} times",
            draft.chars().count(),
            after - before
        );
        // The counter does count: a new message renders the list (once or so).
        bob.send("renders-msg-6", Via::Enter).await;
        alice
            .wait_for("Bob's sixth message", |s| s.confirmed("renders-msg-6"))
            .await;
        let later = alice.list_renders().await;
        println!(
            "message list renders: {before} before typing, {after} after typing {} characters, \
             {later} after one more message",
            draft.chars().count()
        );
        assert!(
            later > after && later <= after + 3,
            "a new message renders the list a few times, not {} ({after} → {later})",
            later - after
        );
    })
    .await;
}
