//! Host tests of the replica: two replicas talking to each other as through the server.

use super::*;

/// Deliver every frame in `frames` to `to`, and `to`'s replies back to `from`, until
/// nothing is left to say.
fn deliver(from: &mut Replica, to: &mut Replica, frames: Vec<Vec<u8>>) {
    for frame in frames {
        let got = to.receive(&frame, None, 0);
        deliver(to, from, got.replies);
    }
}

/// The y-websocket handshake between two replicas, as on a (re)connection.
fn handshake(a: &mut Replica, b: &mut Replica) {
    let from_a = a.on_open();
    let from_b = b.on_open();
    deliver(a, b, from_a);
    deliver(b, a, from_b);
}

#[test]
fn local_edits_become_updates_the_other_side_applies() {
    let mut a = Replica::with_client_id(1, "Ada", "#111111");
    let mut b = Replica::with_client_id(2, "Bo", "#222222");
    let u = a.edit("hello", Some(5), 0).unwrap();
    assert!(
        a.edit("hello", Some(5), 0).is_none(),
        "no change, no update"
    );
    let got = b.receive(&u, Some(Selection::caret(0)), 0);
    assert!(got.text_changed);
    assert_eq!(b.text(), "hello");
    // Text others insert at the caret goes after it.
    assert_eq!(got.selection, Some(Selection::caret(0)));
}

#[test]
fn concurrent_typing_in_the_same_line_converges_and_keeps_both() {
    let mut a = Replica::with_client_id(1, "Ada", "#111111");
    let mut b = Replica::with_client_id(2, "Bo", "#222222");
    let u = a.edit("The line.", Some(9), 0).unwrap();
    b.receive(&u, None, 0);
    // Both type into the same line before seeing each other's edit.
    let ua = a.edit("The red line.", Some(8), 0).unwrap();
    let ua2 = a.edit("The red😀 line.", Some(10), 0).unwrap();
    let ub = b.edit("The line is long.", Some(16), 0).unwrap();
    b.receive(&ua, None, 0);
    b.receive(&ua2, None, 0);
    a.receive(&ub, None, 0);
    assert_eq!(a.text(), b.text());
    assert_eq!(a.text(), "The red😀 line is long.");
}

#[test]
fn offline_edits_merge_on_reconnect_without_duplicates() {
    let mut a = Replica::with_client_id(1, "Ada", "#111111");
    let mut b = Replica::with_client_id(2, "Bo", "#222222");
    handshake(&mut a, &mut b);
    let u = a.edit("shared\n", None, 0).unwrap();
    b.receive(&u, None, 0);
    // Disconnected: both keep editing; their updates are lost in transit.
    a.edit("shared\nfrom a\n", Some(14), 0);
    a.edit("shared\nfrom a 😀\n", Some(16), 0);
    b.edit("from b\nshared\n", Some(7), 0);
    b.edit("from b\nshared\nend", Some(17), 0);
    // Reconnect: step 1 / step 2 both ways, twice (a second reconnection is harmless).
    handshake(&mut a, &mut b);
    handshake(&mut a, &mut b);
    assert_eq!(a.text(), b.text());
    assert_eq!(a.text(), "from b\nshared\nfrom a 😀\nend");
}

#[test]
fn a_remote_change_keeps_the_local_selection_on_its_text() {
    let mut a = Replica::with_client_id(1, "Ada", "#111111");
    let mut b = Replica::with_client_id(2, "Bo", "#222222");
    b.receive(&a.edit("hello world", None, 0).unwrap(), None, 0);
    // b selects "world" (6..11); a inserts "big " before it and "!" after it.
    let u1 = a.edit("hello big world", Some(10), 0).unwrap();
    let u2 = a.edit("😀hello big world", Some(2), 0).unwrap();
    let sel = Selection {
        anchor: 6,
        head: 11,
    };
    let got = b.receive(&u1, Some(sel), 0);
    assert_eq!(
        got.selection,
        Some(Selection {
            anchor: 10,
            head: 15
        })
    );
    let got = b.receive(&u2, got.selection, 0);
    assert_eq!(
        got.selection,
        Some(Selection {
            anchor: 12,
            head: 17
        })
    );
    assert_eq!(b.text(), "😀hello big world");
    // A caret stays after what it followed when others type right there.
    let u3 = a.edit("😀hello big world!", Some(18), 0).unwrap();
    let got = b.receive(&u3, Some(Selection::caret(17)), 0);
    assert_eq!(got.selection, Some(Selection::caret(17)));
    // A backwards selection keeps its direction.
    let u4 = a.edit("😀hello big world!?", Some(19), 0).unwrap();
    let got = b.receive(&u4, Some(Selection { anchor: 5, head: 2 }), 0);
    assert_eq!(got.selection, Some(Selection { anchor: 5, head: 2 }));
}

#[test]
fn carets_travel_through_awareness() {
    let mut a = Replica::with_client_id(1, "Ada", "#111111");
    let mut b = Replica::with_client_id(2, "Bo", "#222222");
    b.receive(&a.edit("ab😀cd", None, 0).unwrap(), None, 0);
    assert!(a.select(Selection { anchor: 2, head: 4 }));
    assert!(!a.select(Selection { anchor: 2, head: 4 }), "unchanged");
    let got = b.receive(&a.awareness(), None, 0);
    assert!(got.peers_changed);
    assert_eq!(
        b.people(),
        vec![(1, "Ada".to_owned(), "#111111".to_owned())]
    );
    let carets = b.carets();
    assert_eq!(carets.len(), 1);
    assert_eq!(carets[0].selection, Selection { anchor: 2, head: 4 });
    // b types before Ada's selection: her caret moves with the text.
    let u = b.edit("xab😀cd", Some(1), 0).unwrap();
    a.receive(&u, None, 0);
    assert_eq!(b.carets()[0].selection, Selection { anchor: 3, head: 5 });
    // A caret at the end of the text is sent as "the end", and stays there.
    a.select(Selection::caret(a.text().encode_utf16().count() as u32));
    b.receive(&a.awareness(), None, 0);
    let u = b.edit("xab😀cd!!", Some(8), 0).unwrap();
    a.receive(&u, None, 0);
    assert_eq!(b.carets()[0].selection, Selection::caret(9));
    // Leaving removes her.
    b.receive(&a.leave(), None, 0);
    assert!(b.people().is_empty() && b.carets().is_empty());
}

#[test]
fn the_state_json_is_what_stock_clients_read() {
    let mut a = Replica::with_client_id(1, "Ada", "#4f46e5");
    a.edit("hi", None, 0);
    a.select(Selection { anchor: 0, head: 2 });
    let json = a.state_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["user"]["name"], "Ada");
    assert_eq!(v["user"]["colorLight"], "#4f46e533");
    // `JSON.stringify` of the `Y.RelativePosition`s a stock editor would publish: every
    // key, with explicit nulls (y-codemirror.next reads a missing `item` as an item and
    // throws); the end of the text is the text itself.
    assert_eq!(
        v["cursor"],
        serde_json::json!({
            "anchor": {"type": null, "tname": "content", "item": {"client": 1, "clock": 0}, "assoc": 0},
            "head": {"type": null, "tname": "content", "item": null, "assoc": 0},
        })
    );
    // An empty document: both ends are the text itself.
    let mut b = Replica::with_client_id(2, "Bo", "#4f46e5");
    b.select(Selection::caret(0));
    let v: serde_json::Value = serde_json::from_str(&b.state_json()).unwrap();
    let end = serde_json::json!({"type": null, "tname": "content", "item": null, "assoc": 0});
    assert_eq!(v["cursor"], serde_json::json!({"anchor": end, "head": end}));
}

#[test]
fn a_server_step_1_is_answered_with_what_it_lacks() {
    let mut a = Replica::with_client_id(1, "Ada", "#111111");
    a.edit("offline work", None, 0);
    let server = Doc::new();
    let sv = server.transact().state_vector();
    let got = a.receive(&protocol::sync_step1(sv), None, 0);
    let [reply] = &got.replies[..] else {
        panic!("one reply")
    };
    let Some(Incoming::SyncStep2(diff)) = protocol::decode(reply) else {
        panic!("step 2")
    };
    server
        .transact_mut()
        .apply_update(Update::decode_v1(&diff).unwrap())
        .unwrap();
    let text = server.get_or_insert_text(TEXT);
    assert_eq!(text.get_string(&server.transact()), "offline work");
}

#[test]
fn undo_takes_back_only_our_own_edits_across_remote_ones() {
    let mut a = Replica::with_client_id(1, "Ada", "#111111");
    let mut b = Replica::with_client_id(2, "Bo", "#222222");
    b.receive(&a.edit("ada", Some(3), 1_000).unwrap(), None, 0);
    // Bo types after it; Ada types again, well after her first edit (a second step).
    a.receive(&b.edit("ada bo", Some(6), 1_100).unwrap(), None, 0);
    b.receive(&a.edit("ada bo!", Some(7), 5_000).unwrap(), None, 0);
    assert!(a.can_undo());
    // Undo removes "!" (her last step), then "ada"; Bo's text stays.
    let one = a.undo(6_000).unwrap();
    assert_eq!(a.text(), "ada bo");
    assert_eq!(one.caret, 6);
    b.receive(&one.frame, None, 0);
    // A remote edit in between does not reset the history.
    a.receive(&b.edit("ada bo?", Some(7), 6_100).unwrap(), None, 0);
    let two = a.undo(6_200).unwrap();
    assert_eq!(a.text(), " bo?");
    assert_eq!(two.caret, 0);
    b.receive(&two.frame, None, 0);
    assert_eq!(b.text(), " bo?");
    assert!(a.undo(6_300).is_none(), "nothing more of ours to undo");
    // Redo brings back her steps, in order, and Bo sees them.
    let back = a.redo(6_400).unwrap();
    assert_eq!(a.text(), "ada bo?");
    assert_eq!(back.caret, 3);
    b.receive(&back.frame, None, 0);
    b.receive(&a.redo(6_500).unwrap().frame, None, 0);
    assert_eq!(a.text(), "ada bo!?");
    assert_eq!(b.text(), a.text());
    assert!(!a.can_redo());
}

#[test]
fn keystrokes_close_together_undo_as_one_step_and_a_new_edit_clears_redo() {
    let mut a = Replica::with_client_id(1, "Ada", "#111111");
    for (i, now) in [(1, 1_000), (2, 1_100), (3, 1_200)] {
        a.edit(&"abc"[..i], Some(i as u32), now);
    }
    a.edit("abc d", Some(5), 2_000);
    a.undo(2_100);
    assert_eq!(a.text(), "abc");
    a.undo(2_200);
    assert_eq!(a.text(), "");
    a.redo(2_300);
    assert_eq!(a.text(), "abc");
    // Typing something new drops what could be redone.
    a.edit("abcX", Some(4), 3_000);
    assert!(a.redo(3_100).is_none());
    assert_eq!(a.text(), "abcX");
}

#[test]
fn stored_unconfirmed_edits_merge_once_and_are_confirmed_by_the_servers_answer() {
    // The server's copy, and the page before the reload.
    let mut server = Replica::with_client_id(9, "server", "#000000");
    let mut page = Replica::with_client_id(1, "Ada", "#111111");
    handshake(&mut page, &mut server);
    page.receive(&server.edit("shared\n", None, 0).unwrap(), None, 0);
    assert!(
        page.unsynced().is_none(),
        "what the server sent is confirmed"
    );
    // Offline: typed, then the tab is closed; storage keeps the whole document.
    page.edit("shared\noffline\n", None, 10);
    let stored = page.unsynced().expect("unconfirmed edits are kept");
    // The next page (a new client id) takes it in before connecting.
    let mut next = Replica::with_client_id(2, "Ada", "#111111");
    assert!(next.restore(&stored));
    assert_eq!(next.text(), "shared\noffline\n");
    assert!(next.restore(&stored) || next.text() == "shared\noffline\n");
    assert!(next.unsynced().is_some());
    // Connecting: both handshakes; the server's answer to our step 1 confirms everything.
    handshake(&mut next, &mut server);
    handshake(&mut next, &mut server);
    assert_eq!(server.text(), "shared\noffline\n", "merged exactly once");
    assert!(next.unsynced().is_none());
    // A live edit is unconfirmed until a checkpoint's step 1 is answered.
    let u = next.edit("shared\noffline\nlive", None, 20).unwrap();
    server.receive(&u, None, 0);
    assert!(next.unsynced().is_some());
    let probe = next.checkpoint().expect("a step 1 to confirm with");
    assert!(next.checkpoint().is_none(), "one at a time");
    let answer = server.receive(&probe, None, 0).replies;
    deliver(&mut server, &mut next, answer);
    assert!(next.unsynced().is_none());
    assert!(next.checkpoint().is_none());
    assert_eq!(server.text(), next.text());
}
