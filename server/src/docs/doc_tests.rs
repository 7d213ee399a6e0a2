//! Unit tests of the document core: relay and storage, sync replies, limits, compaction.

use super::*;
use yrs::{GetString, Text};

const LIMITS: Limits = Limits {
    max_doc: 4096,
    max_update: 1024,
    compact_updates: 3,
    compact_bytes: 1 << 20,
};

fn edit(client: u64, f: impl FnOnce(&Doc, &yrs::TextRef)) -> Vec<u8> {
    let doc = Doc::with_client_id(client);
    let text = doc.get_or_insert_text(super::super::TEXT);
    f(&doc, &text);
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    update
}

fn insert(client: u64, s: &str) -> Vec<u8> {
    edit(client, |doc, text| {
        text.insert(&mut doc.transact_mut(), 0, s)
    })
}

fn apply(
    d: &mut SharedDoc,
    conn: ConnId,
    bytes: &[u8],
    out: &mut Vec<Output>,
) -> Result<(), Rejected> {
    let update = Update::decode_v1(bytes).unwrap();
    d.update(conn, update, bytes.len(), out)
}

#[test]
fn applies_relays_to_others_and_stores_only_what_is_new() {
    let mut d = SharedDoc::load(&StoredDoc::default(), LIMITS).unwrap();
    let mut out = Vec::new();
    let u = insert(7, "hello");
    apply(&mut d, 1, &u, &mut out).unwrap();
    assert_eq!(d.text(), "hello");
    assert!(matches!(
        &out[..],
        [Output::All {
            except: Some(1),
            ..
        }]
    ));
    // The same update again changes nothing: nothing to store or relay.
    apply(&mut d, 2, &u, &mut out).unwrap();
    assert_eq!(out.len(), 1);
    let unstored = d.take_unstored();
    assert_eq!(unstored.len(), 1);
    assert!(d.stored(1, &unstored), "the next id");
    assert_eq!((d.log.last_id, d.log.entries), (1, 1));

    // Reloading snapshot + log gives the same text.
    let stored = StoredDoc {
        snapshot: Vec::new(),
        upto: 0,
        updates: vec![(1, unstored[0].clone())],
    };
    assert_eq!(SharedDoc::load(&stored, LIMITS).unwrap().text(), "hello");
}

#[test]
fn a_sync_step_1_is_answered_with_what_the_client_lacks() {
    let mut d = SharedDoc::load(&StoredDoc::default(), LIMITS).unwrap();
    let mut out = Vec::new();
    apply(&mut d, 1, &insert(7, "abc"), &mut out).unwrap();
    out.clear();
    d.sync_step1(2, &StateVector::default(), &mut out);
    let [Output::To(2, frame)] = &out[..] else {
        panic!("{out:?}")
    };
    let Ok(Message::Sync(SyncMessage::SyncStep2(diff))) = Message::decode_v1(frame) else {
        panic!("not step 2")
    };
    let client = Doc::new();
    client
        .transact_mut()
        .apply_update(Update::decode_v1(&diff).unwrap())
        .unwrap();
    let text = client.get_or_insert_text(super::super::TEXT);
    assert_eq!(text.get_string(&client.transact()), "abc");
}

#[test]
fn limits_refuse_before_touching_the_document() {
    let mut d = SharedDoc::load(&StoredDoc::default(), LIMITS).unwrap();
    let mut out = Vec::new();
    let big = insert(7, &"x".repeat(2000));
    assert_eq!(
        apply(&mut d, 1, &big, &mut out),
        Err(Rejected::Refused(Close::UpdateTooLarge))
    );
    for (i, client) in (10..20).enumerate() {
        let r = apply(&mut d, 1, &insert(client, &"y".repeat(900)), &mut out);
        if r.is_err() {
            assert_eq!(r, Err(Rejected::Refused(Close::DocTooLarge)));
            assert!(i >= 3, "4 KiB hold at least 4 such updates");
            assert!(d.measure() <= LIMITS.max_doc);
            return;
        }
    }
    panic!("the document limit never applied");
}

#[test]
fn compaction_is_due_after_enough_updates() {
    let mut d = SharedDoc::load(&StoredDoc::default(), LIMITS).unwrap();
    let mut out = Vec::new();
    for c in 1..=3 {
        apply(&mut d, 1, &insert(c, "z"), &mut out).unwrap();
    }
    let u = d.take_unstored();
    assert!(d.stored(1, &u));
    assert!(d.needs_compaction());
    let snap = d.snapshot();
    d.compacted(snap.len());
    assert!(!d.needs_compaction());
    let stored = StoredDoc {
        snapshot: snap,
        upto: 3,
        updates: Vec::new(),
    };
    let reloaded = SharedDoc::load(&stored, LIMITS).unwrap();
    assert_eq!(reloaded.text(), "zzz");
    assert_eq!(reloaded.log.last_id, 3);
}

/// In a cluster: updates stored by other nodes are applied and relayed to everyone here,
/// not stored again, and a store that numbered ours past the last id seen says so.
#[test]
fn remote_updates_apply_and_ids_that_skip_show_a_gap() {
    let mut d = SharedDoc::load(&StoredDoc::default(), LIMITS).unwrap();
    let mut out = Vec::new();
    let theirs = insert(9, "from another node");
    d.apply_remote(1, &theirs, &mut out).unwrap();
    assert!(matches!(&out[..], [Output::All { except: None, .. }]));
    assert_eq!((d.log.last_id, d.take_unstored().len()), (1, 0));
    assert_eq!(d.text(), "from another node");
    // The same again changes nothing and relays nothing.
    out.clear();
    d.apply_remote(1, &theirs, &mut out).unwrap();
    assert!(out.is_empty());
    // Ours stored as 3: 2 (another node's) is missing here.
    apply(&mut d, 1, &insert(1, "x"), &mut out).unwrap();
    let ours = d.take_unstored();
    assert!(!d.stored(3, &ours), "a gap");
    assert_eq!(d.log.last_id, 1, "not past the gap until it is read");
}
