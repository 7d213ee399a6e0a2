//! The shared store against a private Postgres (testbed): the checks every store passes, and
//! what only a shared store must do — number one room gaplessly for several nodes, return a
//! retry's stored message whichever node it reaches, allocate document ids across nodes,
//! compact without going back, fail fast while Postgres is down and recover after.

use super::{docs::COMPACT_LOCK_CLASS, PostgresStore};
use crate::store::{tests as shared, Store, StoreError};
use std::{
    sync::Arc,
    thread,
    time::{Duration, Instant},
};
use tandem_shared::{ids::RoomName, ChatMessage, Member, Role};

fn cluster() -> testbed::Postgres {
    testbed::Postgres::start().expect("a private Postgres (Debian package postgresql)")
}

fn connect(url: &str) -> PostgresStore {
    PostgresStore::connect(url, 4).unwrap()
}

/// A new message of `user` in `room`; the store numbers it (`seq` 0 here).
fn msg(room: &str, user: &str, text: &str, client_id: Option<&str>) -> Arc<ChatMessage> {
    Arc::new(ChatMessage {
        room: room.into(),
        seq: 0,
        sender: Member {
            id: user.into(),
            name: format!("{user}'s name"),
            role: Some(Role::Member),
        },
        text: text.into(),
        ts: 1_700_000_000_000,
        client_id: client_id.map(Into::into),
    })
}

fn seqs(msgs: &[Arc<ChatMessage>]) -> Vec<u64> {
    msgs.iter().map(|m| m.seq).collect()
}

#[test]
fn passes_the_checks_every_store_passes() {
    let pg = cluster();
    shared::pages_history(&connect(&pg.create_database("history").unwrap()));
    shared::keeps_access(&connect(&pg.create_database("access").unwrap()));
}

#[test]
fn nodes_starting_at_once_migrate_once() {
    let pg = cluster();
    let url = pg.url();
    let nodes: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            thread::spawn(move || PostgresStore::connect(&url, 2).map(drop))
        })
        .collect();
    for node in nodes {
        node.join().unwrap().unwrap();
    }
    let versions = pg
        .psql("tandem", "SELECT version FROM schema_migrations")
        .unwrap();
    assert_eq!(versions, "1");
    connect(&url); // and again, on a migrated database
}

#[test]
fn two_nodes_number_one_room_without_gaps() {
    let pg = cluster();
    let url = pg.url();
    let nodes = [Arc::new(connect(&url)), Arc::new(connect(&url))];
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = nodes[w % 2].clone();
            thread::spawn(move || {
                let (user, mut sent, mut got) = (format!("u{w}"), 0, Vec::new());
                for batch in 0.. {
                    let size = (batch % 5 + 1).min(200 - sent);
                    if size == 0 {
                        break;
                    }
                    let msgs: Vec<_> = (sent..sent + size)
                        .map(|i| {
                            let client_id = format!("c{i}");
                            msg(
                                "lobby",
                                &user,
                                &format!("{w}/{i}"),
                                (i % 2 == 0).then_some(&*client_id),
                            )
                        })
                        .collect();
                    let stored = store.append(&msgs).unwrap();
                    let s = seqs(&stored);
                    assert!(
                        s.windows(2).all(|p| p[1] == p[0] + 1),
                        "one batch, consecutive: {s:?}"
                    );
                    got.extend(s);
                    sent += size;
                }
                got
            })
        })
        .collect();
    let mut all: Vec<u64> = Vec::new();
    for writer in writers {
        let got = writer.join().unwrap();
        assert!(
            got.windows(2).all(|p| p[0] < p[1]),
            "a writer's messages in its order"
        );
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=800).collect::<Vec<_>>(),
        "every seq handed out once"
    );
    let room = RoomName::new("lobby").unwrap();
    for store in &nodes {
        let page = store.history(&room, None, 1_000).unwrap();
        assert_eq!(seqs(&page.messages), (1..=800).collect::<Vec<_>>());
        assert!(!page.has_more);
        assert_eq!(store.load_room(&room, 5).unwrap().last_seq, 800);
    }
}

#[test]
fn a_retry_through_another_node_returns_the_stored_message() {
    let pg = cluster();
    let (a, b) = (connect(&pg.url()), connect(&pg.url()));
    let room = RoomName::new("lobby").unwrap();

    let first = a
        .append(&[msg("lobby", "ada", "hello", Some("c1"))])
        .unwrap();
    assert_eq!(seqs(&first), [1]);
    assert_eq!(first[0].sender.role, Some(Role::Member), "as given");

    // The retry (reaching node B, its text changed even) stores nothing and gets the original.
    let retry = msg("lobby", "ada", "hello again", Some("c1"));
    let got = b
        .append(&[retry, msg("lobby", "ada", "next", Some("c2"))])
        .unwrap();
    assert_eq!(seqs(&got), [1, 2]);
    assert_eq!(
        (got[0].text.as_str(), got[0].sender.role),
        ("hello", None),
        "as stored"
    );
    assert_eq!(got[1].text, "next");

    // A duplicate in one batch is one message; another user's "c1" is another message; no
    // client_id is never a retry.
    let batch = [
        msg("lobby", "ada", "x", Some("c3")),
        msg("lobby", "ada", "x", Some("c3")),
        msg("lobby", "bob", "mine", Some("c1")),
        msg("lobby", "ada", "plain", None),
        msg("lobby", "ada", "plain", None),
    ];
    assert_eq!(seqs(&a.append(&batch).unwrap()), [3, 3, 4, 5, 6]);
    let page = b.history(&room, None, 100).unwrap();
    assert_eq!(seqs(&page.messages), [1, 2, 3, 4, 5, 6]);
    assert_eq!(page.messages[0].text, "hello");

    // A room loads at its counter, not at its newest row.
    pg.psql("tandem", "DELETE FROM messages WHERE seq = 6")
        .unwrap();
    let loaded = b.load_room(&room, 2).unwrap();
    assert_eq!((loaded.last_seq, seqs(&loaded.recent)), (6, vec![4, 5]));
    assert_eq!(
        seqs(&a.append(&[msg("lobby", "ada", "on", None)]).unwrap()),
        [7]
    );

    // One call, one room: a mixed batch is refused whole.
    let mixed = [
        msg("lobby", "ada", "a", None),
        msg("side", "ada", "b", None),
    ];
    assert!(matches!(a.append(&mixed), Err(StoreError::Corrupt(_))));
    assert_eq!(a.load_room(&room, 0).unwrap().last_seq, 7, "nothing stored");
    assert!(a.append(&[]).unwrap().is_empty());
}

/// The ids of a document's updates as `load_doc_since` returns them.
fn ids(store: &dyn Store, room: &RoomName, after: u64) -> (Vec<u8>, u64, Vec<u64>) {
    let doc = store.load_doc_since(room, after).unwrap();
    (
        doc.snapshot,
        doc.upto,
        doc.updates.iter().map(|(id, _)| *id).collect(),
    )
}

#[test]
fn document_ids_snapshots_and_compaction_across_nodes() {
    let pg = cluster();
    let (a, b) = (Arc::new(connect(&pg.url())), Arc::new(connect(&pg.url())));
    let room = RoomName::new("doc").unwrap();
    let up = |s: &str| s.as_bytes().to_vec();
    // The caller's `first_id` is ignored: the document's counter allocates.
    assert_eq!(
        a.append_doc_updates(&room, 1, &[up("a"), up("b")]).unwrap(),
        1
    );
    assert_eq!(b.append_doc_updates(&room, 1, &[up("c")]).unwrap(), 3);
    assert_eq!(
        a.append_doc_updates(&room, 99, &[up("d"), up("e")])
            .unwrap(),
        4
    );
    assert_eq!(ids(&*b, &room, 0), (vec![], 0, vec![1, 2, 3, 4, 5]));
    assert_eq!(ids(&*b, &room, 2), (vec![], 0, vec![3, 4, 5]));
    assert_eq!(a.load_doc(&room).unwrap().updates[2], (3, up("c")));

    b.compact_doc(&room, b"abc", 3).unwrap();
    assert_eq!(
        ids(&*a, &room, 1),
        (up("abc"), 3, vec![4, 5]),
        "1 < 3: the snapshot too"
    );
    assert_eq!(ids(&*a, &room, 3), (vec![], 0, vec![4, 5]));
    assert_eq!(ids(&*a, &room, 4), (vec![], 0, vec![5]));
    assert_eq!(ids(&*a, &room, 0), ids(&*a, &room, 2));
    assert_eq!(a.load_doc(&room).unwrap().last_id(), 5);

    // A late compaction from the other node does not take the snapshot back.
    a.compact_doc(&room, b"ab", 2).unwrap();
    assert_eq!(ids(&*b, &room, 0), (up("abc"), 3, vec![4, 5]));

    // While another node holds the room's compaction lock, a compaction is skipped.
    let mut other = postgres::Client::connect(&pg.url(), postgres::NoTls).unwrap();
    let mut holder = other.transaction().unwrap();
    holder
        .execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&COMPACT_LOCK_CLASS, &"doc"],
        )
        .unwrap();
    b.compact_doc(&room, b"abcde", 5).unwrap();
    assert_eq!(ids(&*b, &room, 0), (up("abc"), 3, vec![4, 5]), "skipped");
    holder.commit().unwrap();
    b.compact_doc(&room, b"abcde", 5).unwrap();
    assert_eq!(ids(&*b, &room, 0), (up("abcde"), 5, vec![]));
    // Ids go on from the counter after the log was emptied.
    assert_eq!(a.append_doc_updates(&room, 1, &[up("f")]).unwrap(), 6);
    assert_eq!(
        a.append_doc_updates(&room, 1, &[]).unwrap(),
        7,
        "nothing stored"
    );

    // Nodes appending at once: every id once, each batch consecutive.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = if w % 2 == 0 { a.clone() } else { b.clone() };
            thread::spawn(move || {
                let room = RoomName::new("doc").unwrap();
                let mut got = Vec::new();
                for i in 0..50 {
                    let batch = vec![vec![w as u8, i]; usize::from(i % 3 + 1)];
                    let first = store.append_doc_updates(&room, 0, &batch).unwrap();
                    got.extend(first..first + batch.len() as u64);
                }
                got
            })
        })
        .collect();
    let mut all: Vec<u64> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    all.sort_unstable();
    let n = all.len() as u64;
    assert_eq!(all, (7..7 + n).collect::<Vec<_>>());
    assert_eq!(ids(&*a, &room, 6).2, all);
}

#[test]
fn a_stopped_postgres_fails_fast_and_the_store_recovers() {
    let mut pg = cluster();
    let store = connect(&pg.url());
    let room = RoomName::new("lobby").unwrap();
    assert_eq!(
        seqs(&store.append(&[msg("lobby", "ada", "1", None)]).unwrap()),
        [1]
    );

    pg.stop();
    for _ in 0..2 {
        let started = Instant::now();
        let failed = store.append(&[msg("lobby", "ada", "2", None)]);
        let took = started.elapsed();
        assert!(failed.is_err(), "Postgres is down");
        assert!(took < Duration::from_secs(3), "failed in {took:?}");
    }
    let started = Instant::now();
    assert!(store.load_room(&room, 10).is_err());
    assert!(started.elapsed() < Duration::from_secs(3));

    pg.start_again().unwrap();
    let stored = store.append(&[msg("lobby", "ada", "2", None)]).unwrap();
    assert_eq!(
        seqs(&stored),
        [2],
        "the same store, reconnected; nothing half-stored"
    );
    assert_eq!(store.load_room(&room, 10).unwrap().recent.len(), 2);
}
