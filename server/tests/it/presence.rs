//! Presence over the wire in a room bigger than its lists: coalesced frames (at most one
//! per tick), bounded lists with an exact count, paging, capped typing.

use crate::util::*;
use futures_util::future::join_all;
use serde_json::json;
use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};
use tandem_server::Config;
use tandem_shared::{ErrorCode, ServerMsg};

const LIST_MAX: usize = 5;
const OTHERS: usize = 40;

#[tokio::test]
async fn a_room_bigger_than_its_lists_is_counted_exactly_listed_briefly_and_paged() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        presence_list_max: LIST_MAX,
        ..Config::for_tests(dir.path())
    };
    let tick = Duration::from_millis(config.presence_tick_ms);
    let server = TestServer::start(config).await;
    let mut observer = server.connect().await;
    observer.join("big", "Observer").await;
    let mut known: BTreeSet<String> = [observer.user_id.clone()].into();

    // Everyone else joins at once.
    let started = Instant::now();
    let mut others = join_all((0..OTHERS).map(|_| server.connect())).await;
    join_all(
        others
            .iter_mut()
            .enumerate()
            .map(|(n, c)| async move { c.join("big", &format!("P{n:02}")).await }),
    )
    .await;
    let mut ids: BTreeSet<String> = others.iter().map(|c| c.user_id.clone()).collect();
    ids.insert(observer.user_id.clone());

    // The observer hears about it in coalesced frames, each with a bounded list.
    let mut frames = 0;
    loop {
        let msg = observer
            .recv_until(|m| matches!(m, ServerMsg::Presence { .. }))
            .await;
        let ServerMsg::Presence {
            joins,
            leaves,
            count,
            ..
        } = msg
        else {
            unreachable!()
        };
        frames += 1;
        assert!(joins.len() <= LIST_MAX, "a bounded list: {}", joins.len());
        for gone in leaves {
            known.remove(&gone);
        }
        known.extend(joins.into_iter().map(|m| m.id));
        if count == ids.len() as u64 {
            break;
        }
    }
    let ticks = started.elapsed().as_millis() / tick.as_millis();
    assert!(
        frames as u128 <= ticks + 2,
        "at most one presence frame per tick: {frames} frames in {ticks} ticks for {OTHERS} joins"
    );
    let first: BTreeSet<String> = ids.iter().take(LIST_MAX).cloned().collect();
    assert!(
        known.is_superset(&first),
        "the observer's list holds the first {LIST_MAX} members by id"
    );

    // A late joiner gets the count and a bounded list.
    let mut late = server.connect().await;
    match late.join("big", "Late").await {
        ServerMsg::Joined { members, count, .. } => {
            assert_eq!(count, OTHERS as u64 + 2);
            assert!(members.len() <= LIST_MAX + 1, "{} listed", members.len());
        }
        other => panic!("{other:?}"),
    }
    ids.insert(late.user_id.clone());

    // Paging walks everyone once, in order, a bounded page at a time.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        late.send_json(json!({"type": "members", "room": "big", "after": after, "limit": 1000}))
            .await;
        let ServerMsg::Members { members, next, .. } = late
            .recv_until(|m| matches!(m, ServerMsg::Members { .. }))
            .await
        else {
            unreachable!()
        };
        assert!(!members.is_empty() && members.len() <= LIST_MAX);
        paged.extend(members.into_iter().map(|m| m.id));
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(paged, ids.iter().cloned().collect::<Vec<_>>());

    // Not joined: no list.
    let mut stranger = server.connect().await;
    stranger
        .send_json(json!({"type": "members", "room": "big"}))
        .await;
    let refused = stranger.recv_until(|m| error_code(m).is_some()).await;
    assert_eq!(error_code(&refused), Some(ErrorCode::NotJoined));

    // Typing: everyone types, the observer gets one capped frame (or a few), never one each.
    for c in &mut others {
        c.send_json(json!({"type": "typing", "room": "big"})).await;
    }
    let typing = observer
        .recv_until(|m| matches!(m, ServerMsg::Typing { .. }))
        .await;
    let ServerMsg::Typing { members, .. } = typing else {
        unreachable!()
    };
    assert!(
        !members.is_empty() && members.len() <= 10,
        "{} typing",
        members.len()
    );

    // One leaves: everyone's count says so.
    let gone = others.pop().unwrap();
    let gone_id = gone.user_id.clone();
    drop(gone);
    let msg = observer.recv_until(|m| left(m, &gone_id)).await;
    assert!(matches!(msg, ServerMsg::Presence { count, .. } if count == OTHERS as u64 + 1));
    server.stop().await.unwrap();
}
