//! Fault (a): `kill -9` one of three node processes (the real binary) while clients on all
//! three chat and edit at a steady rate. Its clients move to another node and resume with no
//! gap and no duplicate, every acknowledged message is stored exactly once, the documents
//! converge, and a user who does not come back leaves presence by liveness alone.

use super::cluster::until_count_any;
use super::cluster_clients::{chatter, editor, finish_chatters, stored_once_each, ThreeNodes};
use super::util::left;
use super::yclient::YClient;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_one_of_three_nodes_under_chat_and_editing_loses_nothing() {
    // Kept whole: the servers and the data directory live as long as it does.
    let mut cluster = ThreeNodes::start().await;
    let urls = cluster.urls.clone();
    // Someone on node 0 who never comes back: liveness must take them out of presence.
    let mut gone = super::util::Client::connect(&urls[0]).await;
    gone.hello(None).await;
    gone.join("kill", "ghost").await;

    let run_for = Duration::from_secs(4);
    let mut chat = Vec::new();
    let mut edit = Vec::new();
    for i in 0..3 {
        chat.push(tokio::spawn(chatter(
            urls.clone(),
            ("kill", i),
            format!("c{i}"),
            run_for,
        )));
        edit.push(tokio::spawn(editor(
            urls.clone(),
            i,
            format!("e{i}"),
            run_for,
        )));
    }
    let mut watcher = super::util::Client::connect(&urls[2]).await;
    watcher.hello(None).await;
    watcher.join("kill", "watcher").await;
    until_count_any(&mut watcher, |n| n == 5).await; // ghost, c0..c2, watcher
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    cluster.nodes[0].kill9();
    let killed = Instant::now();
    // The ghost leaves by liveness (the chat client c0 comes back through another node).
    watcher.recv_until(|m| left(m, &gone.user_id)).await;
    let left_after = killed.elapsed();
    assert!(
        left_after < Duration::from_secs(5),
        "gone from presence in {left_after:?}"
    );

    let all_acked = finish_chatters(chat, |i, seen| {
        if i == 0 {
            assert!(
                seen.moves > 0,
                "the killed node's client moved to another node"
            );
        }
    })
    .await;
    let stored = stored_once_each(&cluster.pg, "kill", &all_acked);
    eprintln!(
        "kill -9: ghost left presence {left_after:?} after the kill; {} acknowledged, {stored} stored",
        all_acked.len()
    );

    // The documents converge: every editor, and a fresh reader on a surviving node.
    let mut editors = Vec::new();
    for task in edit {
        editors.push(task.await.unwrap());
    }
    let mut reader = YClient::connect(&urls[1].replace("/ws", "/yjs/kill")).await;
    reader.sync().await;
    for e in &mut editors {
        e.sync().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for e in &mut editors {
        e.drain(Duration::from_millis(200)).await;
    }
    reader.drain(Duration::from_millis(200)).await;
    let expected = reader.text();
    for (i, e) in editors.iter().enumerate() {
        assert_eq!(e.text(), expected, "editor {i} converged");
    }
    for i in 0..3 {
        assert!(
            expected.contains(&format!("[e{i}.1]")),
            "every editor's edits are in it"
        );
    }
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_under_steady_chat_loses_and_doubles_nothing() {
    let mut cluster = ThreeNodes::start().await;
    let urls = cluster.urls.clone();
    let run_for = Duration::from_secs(4);
    let chat: Vec<_> = (0..3)
        .map(|i| {
            tokio::spawn(chatter(
                urls.clone(),
                ("redis", i),
                format!("c{i}"),
                run_for,
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    cluster.redis.kill();
    // Down for longer than the nodes' liveness window: they also drop each other's members.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    tokio::task::block_in_place(|| cluster.redis.restart().expect("redis restarts"));
    let all_acked = finish_chatters(chat, |i, seen| {
        assert_eq!(seen.moves, 0, "client {i} stayed on its node");
        // It saw everything up to its own last message, whichever node stored each.
        let last_own = seen.acked.values().max().copied().unwrap_or(0);
        assert!(
            seen.seqs.last().is_some_and(|s| *s >= last_own),
            "client {i}"
        );
    })
    .await;
    let stored = stored_once_each(&cluster.pg, "redis", &all_acked);
    eprintln!(
        "redis restart: {} acknowledged, {stored} stored",
        all_acked.len()
    );
    drop(cluster);
}
