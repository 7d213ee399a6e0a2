//! Tests of the y-websocket framing, awareness states and relative positions.

use super::*;

fn entry(client: u64, clock: u32, json: &str) -> AwarenessUpdate {
    let mut clients = HashMap::new();
    clients.insert(
        ClientID::new(client),
        AwarenessUpdateEntry {
            clock,
            json: json.into(),
        },
    );
    AwarenessUpdate { clients }
}

const ADA: &str =
    r##"{"user":{"name":"Ada","color":"#30bced","colorLight":"#30bced33"},"cursor":null}"##;

#[test]
fn frames_round_trip() {
    let sv = StateVector::default();
    assert_eq!(
        decode(&sync_step1(sv.clone())),
        Some(Incoming::SyncStep1(sv))
    );
    assert_eq!(
        decode(&sync_step2(vec![0, 0])),
        Some(Incoming::SyncStep2(vec![0, 0]))
    );
    assert_eq!(
        decode(&update(vec![0, 0])),
        Some(Incoming::Update(vec![0, 0]))
    );
    assert_eq!(decode(&query_awareness()), Some(Incoming::QueryAwareness));
    // The bytes y-websocket sends: [messageSync=0, syncStep1=0, len, sv…].
    assert_eq!(sync_step1(StateVector::default()), vec![0, 0, 1, 0]);
    let Some(Incoming::Awareness(a)) = decode(&awareness(ClientID::new(7), 3, ADA)) else {
        panic!("not awareness")
    };
    assert_eq!(a, entry(7, 3, ADA));
    assert_eq!(decode(&[9, 9, 9]), None);
    assert_eq!(decode(&[]), None);
}

#[test]
fn reads_stock_client_states() {
    // What y-codemirror publishes (relative positions as Yjs serializes them).
    let json = r##"{"user":{"name":"Bo","color":"#ee6352","colorLight":"#ee635233"},
        "cursor":{"anchor":{"type":null,"tname":"content","item":null,"assoc":0},
                  "head":{"type":null,"tname":null,"item":{"client":12,"clock":3},"assoc":0}}}"##;
    let s = State::parse(json).unwrap();
    assert_eq!(s.user.as_ref().unwrap().name, "Bo");
    assert!(s.cursor.is_some());
    assert!(State::parse(ADA).unwrap().cursor.is_none());
    assert!(State::parse(r#"{"user":{"name":" "}}"#).is_none());
    assert!(State::parse(r#"{"other":1}"#).is_none());
    assert!(State::parse("null").is_none());
}

/// A cursor's JSON, `anchor` and `head` both `pos`.
fn cursor_of(pos: &str) -> String {
    format!(r#"{{"anchor":{pos},"head":{pos}}}"#)
}

fn read(pos: &str) -> StickyIndex {
    let cursor: Cursor = serde_json::from_str(&cursor_of(pos))
        .unwrap_or_else(|e| panic!("{pos} does not parse: {e}"));
    assert_eq!(cursor.anchor, cursor.head);
    cursor.head
}

fn written(pos: &StickyIndex) -> serde_json::Value {
    let cursor = Cursor {
        anchor: pos.clone(),
        head: pos.clone(),
    };
    let v = serde_json::to_value(&cursor).unwrap();
    assert_eq!(v["anchor"], v["head"]);
    v["head"].clone()
}

#[test]
fn relative_positions_are_written_as_stock_editors_write_them() {
    use serde_json::json;
    use yrs::{Assoc, IndexScope, ID};
    let id = ID::new(ClientID::new(7), 3);
    let item = StickyIndex::new(IndexScope::Relative(id), Assoc::After);
    let end = StickyIndex::new(IndexScope::Root(TEXT.into()), Assoc::After);
    let before = StickyIndex::new(IndexScope::Relative(id), Assoc::Before);
    let nested = StickyIndex::new(IndexScope::Nested(id), Assoc::After);
    // `JSON.stringify` of a `Y.RelativePosition` (yjs 13.6.33): every key, nulls too.
    assert_eq!(
        written(&item),
        json!({"type": null, "tname": "content", "item": {"client": 7, "clock": 3}, "assoc": 0})
    );
    assert_eq!(
        written(&end),
        json!({"type": null, "tname": "content", "item": null, "assoc": 0})
    );
    assert_eq!(written(&before)["assoc"], -1);
    assert_eq!(
        written(&nested),
        json!({"type": {"client": 7, "clock": 3}, "tname": null, "item": null, "assoc": 0})
    );
    // In that key order, as `JSON.stringify` writes them.
    let cursor = Cursor {
        anchor: end.clone(),
        head: end.clone(),
    };
    assert_eq!(
        serde_json::to_string(&cursor).unwrap(),
        cursor_of(r#"{"type":null,"tname":"content","item":null,"assoc":0}"#)
    );
    for pos in [item, end, before, nested] {
        assert_eq!(read(&written(&pos).to_string()), pos, "round trip");
    }
}

#[test]
fn relative_positions_are_read_in_both_forms() {
    use yrs::{Assoc, IndexScope, ID};
    let id = ID::new(ClientID::new(7), 3);
    let item = StickyIndex::new(IndexScope::Relative(id), Assoc::After);
    let end = StickyIndex::new(IndexScope::Root(TEXT.into()), Assoc::After);
    // `JSON.stringify(relPos)`, `Y.relativePositionToJSON(relPos)` (no null keys), and
    // what this page wrote before (yrs's serde).
    for json in [
        r#"{"type":null,"tname":"content","item":{"client":7,"clock":3},"assoc":0}"#,
        r#"{"tname":"content","item":{"client":7,"clock":3},"assoc":0}"#,
        r#"{"item":{"client":7,"clock":3},"assoc":0}"#,
        r#"{"type":null,"tname":null,"item":{"client":7,"clock":3},"assoc":0}"#,
        // Older editors: no `assoc` (0); unknown keys are ignored.
        r#"{"item":{"client":7,"clock":3}}"#,
        r#"{"item":{"client":7,"clock":3},"assoc":null,"extra":[1]}"#,
        r#"{"item":{"client":7,"clock":3},"assoc":2}"#,
    ] {
        assert_eq!(read(json), item, "{json}");
    }
    for json in [
        r#"{"type":null,"tname":"content","item":null,"assoc":0}"#,
        r#"{"tname":"content","assoc":0}"#,
    ] {
        assert_eq!(read(json), end, "{json}");
    }
    let before = read(r#"{"type":null,"tname":"content","item":null,"assoc":-1}"#);
    assert_eq!(before.assoc, Assoc::Before);
    assert_eq!(before.scope(), &IndexScope::Root(TEXT.into()));
    let nested = read(r#"{"type":{"client":7,"clock":3},"tname":null,"item":null}"#);
    assert_eq!(nested.scope(), &IndexScope::Nested(id));
    // What Yjs cannot resolve either, and ids yrs cannot hold, are refused.
    for bad in [
        r#"{"type":null,"tname":null,"item":null,"assoc":0}"#,
        r#"{}"#,
        r#"{"item":{"client":9007199254740992,"clock":0}}"#,
        r#"{"item":{"client":-1,"clock":0}}"#,
        r#"{"item":{"clock":0}}"#,
        r#""content""#,
    ] {
        assert!(
            serde_json::from_str::<Cursor>(&cursor_of(bad)).is_err(),
            "{bad} refused"
        );
    }
}

#[test]
fn peers_follow_clocks_and_removals() {
    let me = ClientID::new(1);
    let mut p = Peers::default();
    assert!(p.apply(entry(2, 1, ADA), me, 0));
    assert_eq!(p.present().len(), 1);
    // Our own echo and an older clock change nothing.
    assert!(!p.apply(entry(1, 9, ADA), me, 0));
    assert!(!p.apply(entry(2, 0, "null"), me, 0));
    assert_eq!(p.present().len(), 1);
    // Removal at the same clock; a late echo cannot bring it back.
    assert!(p.apply(entry(2, 1, "null"), me, 0));
    assert!(p.present().is_empty());
    assert!(!p.apply(entry(2, 1, ADA), me, 0));
    assert!(p.apply(entry(2, 2, ADA), me, 10));
    // Not renewed: gone.
    assert!(!p.expire(10 + PEER_TIMEOUT_MS));
    assert!(p.expire(11 + PEER_TIMEOUT_MS));
    assert!(p.present().is_empty());
}

#[test]
fn colours() {
    assert_eq!(hue_to_hex(0).len(), 7);
    assert_ne!(hue_to_hex(0), hue_to_hex(120));
    assert_eq!(safe_color("#30bced"), Some("#30bced"));
    assert_eq!(safe_color("red;background:url(x)"), None);
    assert_eq!(safe_color("#12345"), None);
}
