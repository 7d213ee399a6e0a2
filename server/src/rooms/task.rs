//! The room task: the one owner of a [`Room`], draining its queue in batches.
//!
//! Each batch of commands runs through the pure core, new messages are persisted in one
//! transaction (group commit), then every output is encoded once and delivered in order.
//! Nothing is acknowledged before it is stored. A change of the room's rules (an invite
//! used, moderation) goes through the access book, which stores it, before the room acts
//! on it; those commands are in `moderation.rs`.

mod cluster;
mod deliver;
mod operator;
mod requests;

use super::room::{Output, Room, TAIL_LEN};
use super::{Command, Rooms};
use crate::access::RoomAccess;
use crate::broker::{ConnId, Outbox};
use crate::registry::{Next, Slot};
use crate::ws::codec;
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

pub(crate) fn now_ms() -> u64 {
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
            api: HashMap::new(),
            rate: operator::Rate::default(),
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
    /// Publish API requests waiting for their answer (`operator.rs`).
    api: HashMap<ConnId, oneshot::Sender<ServerMsg>>,
    /// Messages posted, for the admin API's rate.
    rate: operator::Rate,
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
                    self.count_refusal();
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
                Command::Publish {
                    conn,
                    sender,
                    text,
                    client_id,
                    reply,
                } => self.publish((conn, sender), (text, client_id), reply, now),
                Command::Stats { reply } => {
                    let _ = reply.send(self.stats(now));
                }
                Command::Operate { action, reply } => {
                    let _ = reply.send(self.operate(action).await);
                }
            }
        }
        let sent: Vec<(ConnId, Arc<ChatMessage>)> = self
            .out
            .iter()
            .filter_map(|o| match o {
                Output::Posted { conn, msg } => Some((*conn, msg.clone())),
                _ => None,
            })
            .collect();
        let posted: Vec<Arc<ChatMessage>> = sent.iter().map(|(_, m)| m.clone()).collect();
        let stored = if posted.is_empty() {
            true
        } else {
            match self.persist(&posted).await {
                Some(stored) => {
                    self.answer_published(&sent, &stored);
                    if self.room.in_cluster_mode() {
                        self.settle(stored).await;
                    }
                    true
                }
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

    /// Count a post the room just refused (a refusal is a post's only output to its
    /// sender, and the last output then).
    fn count_refusal(&self) {
        if let Some(Output::To(_, ServerMsg::Error { code, .. })) = self.out.last() {
            crate::metrics::METRICS.chat(crate::metrics::refusal(*code), 1);
        }
    }

    /// To a joined connection, or the API request `conn` names.
    pub(super) fn send_to(&mut self, conn: ConnId, msg: &ServerMsg) {
        if let Some(outbox) = self.outboxes.get(&conn) {
            outbox.deliver(codec::encode(msg));
        } else if let Some(reply) = self.api.remove(&conn) {
            let _ = reply.send(msg.clone());
        }
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
