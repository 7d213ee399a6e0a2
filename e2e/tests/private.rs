//! Private rooms, end to end, in three real browsers: Alice creates a private room and
//! copies its invite link; Bob comes in through it (chat both ways, co-editing); Carol, with
//! the room's address but not its invite, is refused. Alice removes Bob: he is gone from her
//! presence and document at once, his page says so, and his invite link no longer lets him
//! in. Carol comes in with the link and Alice makes her a viewer: she sees Alice's edits live
//! but can neither edit (a change forced through a script is refused, by the page and by the
//! server) nor chat; the same in a read-only room. A reload keeps who you are.
//!
//! The page's contract here: `create-private`, `private-title`, `invite-link`,
//! `copy-invite`, `room-tab` with `data-private`, `member-menu` / `kick` / `make-viewer` /
//! `make-member`, `read-only-toggle`, `read-only-badge`, `composer-locked`, `notice`.
//! Screenshots: `target/artifacts/e2e/private-*.png`.

#[path = "private/page.rs"]
mod page;

use page::{in_room, moderate, open_as, refused, room, wait_room, FORCE_JS};
use std::time::Duration;
use tandem_e2e::{
    browser::{Browser, Via},
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
    wait,
};

/// What "at once" means for a removal: far below the server's heartbeat timeout.
const AT_ONCE: Duration = Duration::from_secs(5);

/// How long a refused change is watched for not arriving.
const NOT_ARRIVING: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_rooms_invites_removal_viewers_and_identity() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("private");
    let server = TestServer::start().await;
    with_browsers(
        &shots,
        &["alice", "bob", "carol"],
        async |b: &[Browser]| scenario(&shots, &server, &b[0], &b[1], &b[2]).await,
    )
    .await;
}

async fn scenario(
    shots: &Shots,
    server: &TestServer,
    alice: &Browser,
    bob: &Browser,
    carol: &Browser,
) {
    let all = [alice, bob, carol];
    let base = server.url("");

    // (a) Alice creates a private room and copies its invite link.
    alice.goto(&server.url("/")).await;
    alice.wait_for("the join form", |s| s.join_form).await;
    alice.fill("name-input", "Alice").await;
    alice.fill("private-title", "Plans").await;
    alice.click("create-private").await;
    let created = wait_room(alice, "in the new private room", wait::TIMEOUT, |r| {
        r.invite.as_deref().is_some_and(|i| i.contains("?invite="))
            && r.tabs.iter().any(|t| t.private.as_deref() == Some("true"))
    })
    .await;
    let tab = &created.tabs[0];
    let id = tab.room.clone();
    assert!(
        tab.label.contains("Plans") && !tab.label.contains(&id),
        "the tab shows the title: {tab:?}"
    );
    assert_eq!(created.path, format!("/r/{id}"));
    let link = created.invite.clone().unwrap();
    assert_eq!(
        link,
        format!("{base}/r/{id}?invite={}", link.rsplit('=').next().unwrap())
    );
    in_room(alice, &id, &["Alice"]).await;
    let alice_id = room(alice)
        .await
        .me()
        .expect("Alice in presence")
        .id
        .clone();
    alice.click("copy-invite").await;
    // Copied, or (where the clipboard is refused, as it may be headless) selected to copy.
    wait_room(alice, "the link copied (or selected)", wait::TIMEOUT, |r| {
        matches!(r.copy.as_deref(), Some("copied" | "selected"))
    })
    .await;
    shots.take("created", &[alice]).await;

    // Bob opens the link: he is in, and the secret leaves his address bar.
    open_as(bob, &link, "Bob").await;
    in_room(bob, &id, &["Alice", "Bob"]).await;
    let bob_view = wait_room(
        bob,
        "the invite gone from the address",
        wait::TIMEOUT,
        |r| r.search.is_empty() && r.path == format!("/r/{id}"),
    )
    .await;
    let bob_tab = bob_view.tab(&id).expect("Bob's tab");
    assert!(
        bob_tab.private.is_some() && bob_tab.label.contains("Plans"),
        "{bob_tab:?}"
    );
    assert!(bob_view.invite.is_none(), "only the owner sees the invite");
    in_room(alice, &id, &["Alice", "Bob"]).await;
    let bob_id = room(alice).await.member("Bob").expect("Bob").id.clone();

    alice.send("private-msg-1", Via::Enter).await;
    bob.send("private-msg-2", Via::Button).await;
    for who in [alice, bob] {
        who.wait_for("both messages confirmed", |s| {
            s.confirmed("private-msg-1") && s.confirmed("private-msg-2")
        })
        .await;
    }
    alice.type_doc("Alice plans. ").await;
    bob.wait_doc("Alice's words", wait::TIMEOUT, |d| {
        d.count("Alice plans.") == 1
    })
    .await;
    bob.type_doc("Bob agrees.").await;
    alice
        .wait_doc("Bob's words", wait::TIMEOUT, |d| {
            d.text() == "Alice plans. Bob agrees." || d.text() == "Bob agrees.Alice plans. "
        })
        .await;
    alice.wait_caret_of("Bob").await;
    shots.take("bob-in", &[alice, bob]).await;

    // Carol has the room's address, not its invite: refused.
    open_as(carol, &server.url(&format!("/r/{id}")), "Carol").await;
    refused(carol, &id).await;
    assert!(room(alice).await.member("Carol").is_none());
    shots.take("carol-refused", &[carol]).await;

    // (b) Alice removes Bob: gone at once from her presence and document.
    moderate(alice, &bob_id, "kick").await;
    alice
        .wait_for_within("Bob gone from presence", AT_ONCE, |s| {
            s.presence_is(&["Alice"])
        })
        .await;
    wait_room(alice, "Bob gone from the document's people", AT_ONCE, |r| {
        !r.doc_people.iter().any(|n| n == "Bob")
    })
    .await;
    alice
        .wait_doc("Bob's caret gone", AT_ONCE, |d| {
            !d.carets.iter().any(|c| c == "Bob")
        })
        .await;
    wait_room(bob, "told he was removed", AT_ONCE, |r| {
        r.tab(&id).is_none() && r.notice_has("You were removed from Plans")
    })
    .await;
    shots.take("bob-removed", &[alice, bob]).await;
    // His invite link no longer lets him in.
    open_as(bob, &link, "Bob").await;
    refused(bob, &id).await;
    assert!(room(alice).await.member("Bob").is_none());
    shots.take("bob-refused", &[alice, bob]).await;

    // (c) Carol comes in with the link, writes, and is made a viewer.
    open_as(carol, &link, "Carol").await;
    in_room(carol, &id, &["Alice", "Carol"]).await;
    in_room(alice, &id, &["Alice", "Carol"]).await;
    carol.send("carol-msg-1", Via::Enter).await;
    carol
        .wait_for("her message confirmed", |s| s.confirmed("carol-msg-1"))
        .await;
    let carol_id = room(carol)
        .await
        .me()
        .expect("Carol in presence")
        .id
        .clone();
    moderate(alice, &carol_id, "make-viewer").await;
    let viewer = wait_room(
        carol,
        "a viewer: read-only editor, no composer",
        wait::TIMEOUT,
        |r| {
            r.badge.is_some()
                && r.composer_disabled == Some(true)
                && r.editor_readonly == Some(true)
        },
    )
    .await;
    assert!(
        viewer
            .locked
            .as_deref()
            .is_some_and(|l| l.contains("viewer")),
        "{viewer:?}"
    );
    wait_room(alice, "Carol marked as a viewer", wait::TIMEOUT, |r| {
        r.member("Carol").and_then(|m| m.role.as_deref()) == Some("viewer")
    })
    .await;

    // She sees Alice's edits live.
    alice.type_doc(" Carol watches.").await;
    let expected = alice
        .wait_doc("her new words", wait::TIMEOUT, |d| {
            d.count(" Carol watches.") == 1
        })
        .await
        .text()
        .to_owned();
    carol
        .wait_doc("Alice's new words", wait::TIMEOUT, |d| d.text() == expected)
        .await;
    // A change forced into her editor by a script makes no edit: the page puts the text back.
    carol
        .eval(
            r#"const e = document.querySelector('[data-testid="doc-editor"]');
               e.removeAttribute("readonly"); e.value = e.value + "FORCED-IN-PAGE";
               e.dispatchEvent(new InputEvent("input", { bubbles: true }));"#,
            vec![],
        )
        .await;
    carol
        .wait_doc("the page's text put back", wait::TIMEOUT, |d| {
            d.text() == expected
        })
        .await;
    // A change sent on a connection of her own is refused by the server (closed, 4403).
    carol
        .eval(FORCE_JS, vec![id.clone().into(), "FORCED-ON-WIRE".into()])
        .await;
    let forced = wait::until(
        "carol: the server closes the connection that forced a change",
        wait::TIMEOUT,
        || carol.eval("return window.__forced || null;", vec![]),
        |v| v["state"] == "closed",
    )
    .await;
    assert_eq!(forced["code"], 4403, "refused as read-only: {forced}");
    let own = room(carol).await;
    assert_eq!(
        own.doc_status.as_deref(),
        Some("synced"),
        "her page's own connection stays"
    );
    let deadline = tokio::time::Instant::now() + NOT_ARRIVING;
    while tokio::time::Instant::now() < deadline {
        let d = alice.doc().await;
        assert_eq!(d.text(), expected, "Alice's text is unchanged");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shots.take("viewer", &[alice, carol]).await;

    // Back to member; then the room read-only: Carol may not write again, Alice may.
    moderate(alice, &carol_id, "make-member").await;
    wait_room(carol, "a member again", wait::TIMEOUT, |r| {
        r.badge.is_none() && r.composer_disabled == Some(false) && r.editor_readonly == Some(false)
    })
    .await;
    alice.click("read-only-toggle").await;
    let ro = wait_room(carol, "the room read-only", wait::TIMEOUT, |r| {
        r.badge.as_deref() == Some("Read-only") && r.composer_disabled == Some(true)
    })
    .await;
    assert!(
        ro.locked
            .as_deref()
            .is_some_and(|l| l.contains("read-only")),
        "{ro:?}"
    );
    wait_room(alice, "the switch on, still writing", wait::TIMEOUT, |r| {
        r.read_only_toggle == Some(true) && r.composer_disabled == Some(false)
    })
    .await;
    alice.send("owner-still-writes", Via::Enter).await;
    carol
        .wait_for("the owner's message", |s| s.confirmed("owner-still-writes"))
        .await;
    shots.take("read-only", &[alice, carol]).await;

    // (d) A reload keeps who you are: the same user id, your messages still yours.
    carol.reload().await;
    in_room(carol, &id, &["Alice", "Carol"]).await;
    let back = wait_room(carol, "herself again", wait::TIMEOUT, |r| {
        r.me().is_some() && r.mine.iter().any(|m| m.contains("carol-msg-1"))
    })
    .await;
    assert_eq!(
        back.me().unwrap().id,
        carol_id,
        "the same user after a reload"
    );
    assert!(back.tab(&id).is_some_and(|t| t.label.contains("Plans")));
    alice.reload().await;
    in_room(alice, &id, &["Alice", "Carol"]).await;
    let owner = wait_room(
        alice,
        "the owner again, with the invite",
        wait::TIMEOUT,
        |r| r.invite.is_some() && r.read_only_toggle == Some(true),
    )
    .await;
    assert_eq!(owner.me().unwrap().id, alice_id);
    assert_eq!(owner.invite.as_deref(), Some(link.as_str()));
    assert!(owner.mine.iter().any(|m| m.contains("private-msg-1")));
    shots.take("reloaded", &all).await;

    // A new invite: the old link is replaced; members stay.
    alice.click("rotate-invite").await;
    let rotated = wait_room(alice, "a new invite link", wait::TIMEOUT, |r| {
        r.invite
            .as_deref()
            .is_some_and(|i| i != link && i.contains("?invite="))
    })
    .await;
    assert!(rotated.member("Carol").is_some(), "members stay");
    in_room(carol, &id, &["Alice", "Carol"]).await;

    // The member menu, by keyboard; how it looks in a row of people, wide (presence beside
    // the document), and dark.
    let carols = format!("[data-testid=\"presence-member\"][data-member=\"{carol_id}\"]");
    alice
        .click_css(&format!("{carols} [data-testid=\"member-menu\"]"))
        .await;
    // The menu has the focus on its first item; the arrow keys move it, Escape closes it.
    let focused = || async {
        let js = r#"const a = document.activeElement;
                    return [a && a.getAttribute("data-testid"),
                            document.querySelector('[role="menu"]') !== null];"#;
        alice.eval(js, vec![]).await
    };
    let key = |k: &'static str| async move {
        let js = r#"document.activeElement.dispatchEvent(
                      new KeyboardEvent("keydown", { key: arguments[0], bubbles: true }));"#;
        alice.eval(js, vec![k.into()]).await;
    };
    for (after, expect) in [
        (None, serde_json::json!(["make-viewer", true])),
        (Some("ArrowDown"), serde_json::json!(["kick", true])),
        (Some("ArrowUp"), serde_json::json!(["make-viewer", true])),
        (Some("ArrowUp"), serde_json::json!(["ban", true])),
        (Some("Escape"), serde_json::json!(["member-menu", false])),
    ] {
        if let Some(k) = after {
            key(k).await;
        }
        let what = format!("alice: the menu's focus after {after:?}");
        wait::until(&what, wait::TIMEOUT, focused, |v| *v == expect).await;
        if after.is_none() {
            shots.take("menu", &[alice]).await;
        }
    }
    alice.resize(1400, 860).await;
    alice
        .click_css(&format!("{carols} [data-testid=\"member-menu\"]"))
        .await;
    shots.take("wide-menu", &[alice]).await;
    for who in [alice, carol] {
        who.dark().await;
    }
    shots.take("dark", &[alice, carol]).await;
}
