//! The room task: the one owner of a [`Room`], draining its queue in batches.
//!
//! Each batch of commands runs through the pure core, new messages are persisted in one
//! transaction (group commit), then every output is encoded once and delivered in order.
//! Nothing is acknowledged before it is stored. A change of the room's rules (an invite
//! used, moderation) goes through the access book, which stores it, before the room acts
//! on it; those commands are in `moderation.rs`.

mod cluster;
mod requests;

use super::room::{Output, Room, TAIL_LEN};
use super::{Command, Rooms};
use crate::access::RoomAccess;
use crate::broker::{ConnId, Outbox};
use crate::registry::{Next, Slot};
use crate::ws::codec;
use bytes::BytesMut;
use std::{collections::HashMap, sync::Arc, time::SystemTime};
use tandem_shared::{ids::RoomName, ChatMessage, ErrorCode, ServerMsg};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

/// Commands taken from the queue per batch.
const BATCH: usize = 256;

pub(super) struct RoomTask {
    pub(super) slot: Slot<Command>,
    pub(super) rooms: Rooms,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl RoomTask {
    pub(super) async fn run(mut self) {
        let store = self.rooms.inner.store.clone();
        let name = self.slot.room.clone();
        let loaded = tokio::task::spawn_blocking(move || store.load_room(&name, TAIL_LEN)).await;
        let rules = self.rooms.book().watch(&self.slot.room).await;
        let (snapshot, rules) = match (loaded, rules) {
            (Ok(Ok(s)), Ok(rules)) => (s, rules),
            (snapshot, rules) => {
                let failure = (snapshot.map(|r| r.err()), rules.err());
                tracing::error!(room = %self.slot.room, ?failure, "room failed to load");
                // Dropping the queue fails every waiting request with `Unavailable`.
                self.rooms
                    .inner
                    .registry
                    .forget(&self.slot.room, self.slot.id);
                return;
            }
        };
        tracing::debug!(room = %self.slot.room, last_seq = snapshot.last_seq, "room loaded");
        let current = rules.borrow().clone();
        let settings = self.rooms.inner.settings;
        let room = Room::new(
            self.slot.room.clone(),
            snapshot.last_seq,
            snapshot.recent,
            current,
        )
        .with_list_max(settings.list_max);
        let mut state = State {
            room: if settings.shared_store {
                room.in_cluster()
            } else {
                room
            },
            behind: false,
            last_tick: Instant::now(),
            rules,
            name: self.slot.room.clone(),
            rooms: self.rooms.clone(),
            outboxes: HashMap::new(),
            out: Vec::new(),
            done: Vec::new(),
            joins: Vec::new(),
        };
        // Who is here through the other nodes?
        state.relay(crate::broker::Relay::PresenceAsk);
        // Grown per burst and released after it: an idle room holds no batch buffer.
        let mut batch = Vec::new();
        loop {
            let registry = &self.rooms.inner.registry;
            let next = if state.behind {
                // A catch-up from the store failed: try again soon.
                let retry = tokio::time::sleep(cluster::RETRY);
                tokio::select! {
                    next = self.slot.next_batch(registry, &mut batch, BATCH, None) => Some(next),
                    _ = retry => {
                        state.catch_up(None).await;
                        state.deliver(true);
                        continue;
                    }
                }
            } else if state.room.presence_pending() {
                // Presence is due at the next tick: wait for commands until then.
                let due = state.last_tick + settings.tick;
                tokio::select! {
                    next = self.slot.next_batch(registry, &mut batch, BATCH, None) => Some(next),
                    _ = tokio::time::sleep_until(due) => None,
                }
            } else {
                let idle = state.room.is_empty().then_some(settings.idle);
                Some(
                    self.slot
                        .next_batch(registry, &mut batch, BATCH, idle)
                        .await,
                )
            };
            match next {
                None => {
                    state.tick();
                    continue;
                }
                Some(Next::Batch) => {}
                Some(Next::Unload) => return self.unload().await,
                Some(Next::Stopped) => break,
            }
            state.process(batch.drain(..)).await;
            batch.shrink_to(0);
            if state.room.presence_pending() && state.last_tick.elapsed() >= settings.tick {
                state.tick();
            }
        }
        tracing::debug!(room = %self.slot.room, "room stopped");
    }

    /// Close the queue and pass on anything that slipped in after the idle check.
    async fn unload(mut self) {
        for cmd in self.slot.close() {
            let _ = self.rooms.send(&self.slot.room, cmd).await;
        }
        tracing::debug!(room = %self.slot.room, "room unloaded");
    }
}

pub(super) struct State {
    pub(super) room: Room,
    /// Cluster: messages are stored that this room could not read yet (the store failed
    /// during a catch-up); retried until it succeeds.
    pub(super) behind: bool,
    /// When presence was last sent (at most one presence frame per tick).
    last_tick: Instant,
    /// The room's rules as the access book publishes them.
    pub(super) rules: watch::Receiver<Arc<RoomAccess>>,
    pub(super) name: RoomName,
    pub(super) rooms: Rooms,
    /// Outboxes of joined connections, for replies and (via the broker) broadcasts.
    outboxes: HashMap<ConnId, Outbox>,
    pub(super) out: Vec<Output>,
    done: Vec<oneshot::Sender<()>>,
    /// Joins waiting for the batch to be delivered, with whether they got in.
    joins: Vec<(oneshot::Sender<bool>, bool)>,
}

impl State {
    async fn process(&mut self, batch: impl Iterator<Item = Command>) {
        let now = now_ms();
        // The rules may have changed elsewhere (an invite used on the document's handshake).
        if self.rules.has_changed().unwrap_or(false) {
            let rules = self.rules.borrow_and_update().clone();
            self.room.set_rules(rules);
        }
        for cmd in batch {
            match cmd {
                Command::Join {
                    conn,
                    who,
                    name,
                    since,
                    invite,
                    outbox,
                    done,
                } => {
                    let joined = self.join(conn, who, name, since, invite, &outbox).await;
                    if joined {
                        // Its own stale flag: this room resyncs the presence it dropped. A
                        // rejoin keeps the one the broker already holds.
                        self.outboxes
                            .entry(conn)
                            .or_insert_with(|| outbox.for_room());
                    }
                    self.joins.push((done, joined));
                }
                Command::History {
                    conn,
                    before,
                    limit,
                    reply,
                } => self.history(conn, before, limit, &reply).await,
                Command::Moderate {
                    conn,
                    action,
                    reply,
                } => self.moderate(conn, action, &reply).await,
                Command::Chat {
                    conn,
                    text,
                    client_id,
                } => {
                    self.room.chat(conn, text, client_id, now, &mut self.out);
                    // A refusal is the chat's only output to its sender.
                    if let Some(Output::To(_, ServerMsg::Error { code, .. })) = self.out.last() {
                        crate::metrics::METRICS.chat(crate::metrics::refusal(*code), 1);
                    }
                }
                Command::Typing { conn } => {
                    if let Some(member) = self.room.typing(conn) {
                        self.relay(crate::broker::Relay::Typing { member });
                    }
                }
                Command::Remote { node, relay } => self.remote(node, relay).await,
                Command::NodeGone(node) => self.room.node_gone(node),
                Command::NodeSeen => self.relay(crate::broker::Relay::PresenceAsk),
                Command::Resync => self.resync().await,
                Command::Members {
                    conn,
                    after,
                    limit,
                    reply,
                } => {
                    let msg = match self.room.who(conn) {
                        Some(_) => self.room.page(after.as_deref(), limit),
                        None => ServerMsg::Error {
                            code: ErrorCode::NotJoined,
                            message: format!("join room {} first", self.name),
                            room: Some(self.name.to_string()),
                            client_id: None,
                        },
                    };
                    reply.deliver(codec::encode(&msg));
                }
                Command::Leave { conn, done } => {
                    self.room.disconnect(conn, &mut self.out);
                    self.done.extend(done);
                }
            }
        }
        let posted: Vec<Arc<ChatMessage>> = self
            .out
            .iter()
            .filter_map(|o| match o {
                Output::Posted { msg, .. } => Some(msg.clone()),
                _ => None,
            })
            .collect();
        let stored = if posted.is_empty() {
            true
        } else {
            match self.persist(&posted).await {
                Some(stored) if self.room.in_cluster_mode() => {
                    self.settle(stored).await;
                    true
                }
                Some(_) => true,
                None => {
                    self.room.rollback(&posted);
                    false
                }
            }
        };
        self.deliver(stored);
        for done in self.done.drain(..) {
            let _ = done.send(());
        }
        for (done, joined) in self.joins.drain(..) {
            let _ = done.send(joined);
        }
    }

    /// Store the batch's messages; they come back as stored (numbered by a shared store).
    async fn persist(&self, posted: &[Arc<ChatMessage>]) -> Option<Vec<Arc<ChatMessage>>> {
        let store = self.rooms.inner.store.clone();
        let msgs = posted.to_vec();
        let metrics = &crate::metrics::METRICS;
        let append = move || metrics.store("append", || store.append(&msgs));
        match tokio::task::spawn_blocking(append).await {
            Ok(Ok(stored)) if stored.len() == posted.len() => {
                metrics.chat("accepted", stored.len() as u64);
                Some(stored)
            }
            failure => {
                metrics.chat("unavailable", posted.len() as u64);
                tracing::error!(room = %self.name, count = posted.len(), ?failure, "persist failed");
                None
            }
        }
    }

    pub(super) fn send_to(&self, conn: ConnId, msg: &ServerMsg) {
        if let Some(outbox) = self.outboxes.get(&conn) {
            outbox.deliver(codec::encode(msg));
        }
    }

    /// Deliver the outputs in order. Consecutive broadcasts go out as one burst — their
    /// frames in one buffer, one queue entry per subscriber — so a subscriber is woken and
    /// written to once per batch, not once per message. Subscription changes are gathered
    /// and applied to the broker at once, just before the next broadcast (and at the end): a
    /// join storm rebuilds the subscriber list once per batch, and every broadcast still
    /// reaches exactly those subscribed before it.
    pub(super) fn deliver(&mut self, stored: bool) {
        let broker = self.rooms.inner.broker.clone();
        let (mut subscribe, mut unsubscribe) = (Vec::new(), Vec::new());
        let mut burst = BytesMut::new();
        let flush = |burst: &mut BytesMut| {
            if !burst.is_empty() {
                broker.publish(&self.name, &burst.split().freeze());
            }
        };
        // Before a broadcast: the burst so far goes to those subscribed before the changes.
        let settle = |burst: &mut BytesMut,
                      subscribe: &mut Vec<(ConnId, Outbox)>,
                      unsubscribe: &mut Vec<ConnId>| {
            if subscribe.is_empty() && unsubscribe.is_empty() {
                return;
            }
            flush(burst);
            if !unsubscribe.is_empty() {
                broker.unsubscribe_many(&self.name, &std::mem::take(unsubscribe));
            }
            broker.subscribe_many(&self.name, std::mem::take(subscribe));
        };
        for o in std::mem::take(&mut self.out) {
            match o {
                Output::To(conn, msg) => {
                    flush(&mut burst);
                    self.send_to(conn, &msg);
                }
                Output::All(msg) => {
                    settle(&mut burst, &mut subscribe, &mut unsubscribe);
                    burst.extend_from_slice(&codec::encode(&msg));
                }
                Output::Coalesced(msg) => {
                    settle(&mut burst, &mut subscribe, &mut unsubscribe);
                    flush(&mut burst);
                    broker.publish_droppable(&self.name, &codec::encode(&msg));
                }
                Output::Posted { msg, .. } if stored => {
                    settle(&mut burst, &mut subscribe, &mut unsubscribe);
                    let chat = ServerMsg::Chat(ChatMessage::clone(&msg));
                    burst.extend_from_slice(&codec::encode(&chat));
                }
                Output::Posted { conn, msg } => {
                    flush(&mut burst);
                    let err = ServerMsg::Error {
                        code: ErrorCode::Unavailable,
                        message: "the message could not be stored; please retry".into(),
                        room: Some(self.name.to_string()),
                        client_id: msg.client_id.clone(),
                    };
                    self.send_to(conn, &err);
                }
                Output::Subscribe(conn) => {
                    if let Some(outbox) = self.outboxes.get(&conn) {
                        unsubscribe.retain(|c| *c != conn);
                        subscribe.push((conn, outbox.clone()));
                    }
                }
                Output::Unsubscribe(conn) => {
                    subscribe.retain(|(c, _)| *c != conn);
                    unsubscribe.push(conn);
                    self.outboxes.remove(&conn);
                }
            }
        }
        flush(&mut burst);
        settle(&mut burst, &mut subscribe, &mut unsubscribe);
    }

    /// The presence tick: who came, went and typed since the last one, in one droppable
    /// frame each; and a full presence frame for each connection whose outbox had to drop
    /// some (once it has room again).
    fn tick(&mut self) {
        self.last_tick = Instant::now();
        if let Some((joined, left)) = self.room.take_changes_here() {
            self.relay(crate::broker::Relay::Presence { joined, left });
        }
        self.room.flush_presence(&mut self.out);
        self.deliver(true);
        let mut snapshot = None;
        for outbox in self.outboxes.values() {
            if outbox.take_stale() {
                let frame =
                    snapshot.get_or_insert_with(|| codec::encode(&self.room.presence_snapshot()));
                outbox.offer(frame.clone());
            }
        }
    }
}
