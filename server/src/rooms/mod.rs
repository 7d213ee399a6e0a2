//! Rooms: the registry of live rooms and [`Rooms`], the cloneable handle sessions use.
//!
//! Each live room is one task (`task.rs`) that owns a [`room::Room`] and is reached through a
//! bounded command queue. Rooms load from the store on first use and unload when idle. A
//! room's rules (who may enter, write, moderate) are the [`AccessBook`]'s; the room task
//! applies them and is the one that changes them (`moderation.rs` for what it does then).
//! Scrollback (`history`) reads the store directly, without the room task.

mod command;
mod room;
mod task;

pub(crate) use command::{Command, Moderation, Operation, RoomStats};
pub(crate) use task::now_ms;

use crate::access::{AccessBook, Who};
use crate::broker::{Broker, ConnId, NodeId, Outbox, Relay};
use crate::docs::Docs;
use crate::registry::{Registry, Slot, TaskFuture};
use crate::store::Store;
use std::{sync::Arc, time::Duration};
use tandem_shared::ids::RoomName;
use tandem_shared::{Member, ServerMsg};
use tokio::sync::oneshot;

/// Commands queued per room before senders wait (backpressure onto the sending sessions).
const ROOM_QUEUE: usize = 1024;

/// The room could not take the request: it failed to load, or the server is shutting down.
#[derive(Debug, thiserror::Error)]
#[error("room unavailable")]
pub struct Unavailable;

/// Cloneable handle to every room on this node.
#[derive(Clone)]
pub struct Rooms {
    inner: Arc<Inner>,
}

struct Inner {
    /// Live rooms, one task each.
    registry: Registry<Command>,
    store: Arc<dyn Store>,
    broker: Arc<dyn Broker>,
    /// Every room's rules.
    book: AccessBook,
    /// The documents, to end a kicked user's connections to them.
    docs: Docs,
    settings: Settings,
}

/// How rooms behave (from `Config`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// An empty room unloads after this.
    pub idle: Duration,
    /// Presence and typing go out at most once per this.
    pub tick: Duration,
    /// Members listed at most in `joined`, presence and a `members` page.
    pub list_max: usize,
    /// The store is shared by several nodes (Postgres): it numbers the messages, and the
    /// room takes them in `seq` order from it and from the other nodes.
    pub shared_store: bool,
}

/// What a join needs besides the room: who, under what name, from where in the history,
/// with which invite, and where replies go.
pub(crate) struct JoinRequest {
    pub(crate) conn: ConnId,
    pub(crate) who: Who,
    pub(crate) name: String,
    pub(crate) since: Option<u64>,
    pub(crate) invite: Option<String>,
    pub(crate) outbox: Outbox,
}

impl Rooms {
    pub fn new(
        store: Arc<dyn Store>,
        broker: Arc<dyn Broker>,
        (book, docs): (AccessBook, Docs),
        settings: Settings,
    ) -> Rooms {
        Rooms {
            inner: Arc::new(Inner {
                registry: Registry::new(ROOM_QUEUE),
                store,
                broker,
                book,
                docs,
                settings,
            }),
        }
    }

    /// Join (or re-join); `Ok(false)` if the room refused (the connection was told why).
    pub(crate) async fn join(
        &self,
        room: &RoomName,
        req: JoinRequest,
    ) -> Result<bool, Unavailable> {
        let (done, rx) = oneshot::channel();
        let cmd = Command::Join {
            conn: req.conn,
            who: req.who,
            name: req.name,
            since: req.since,
            invite: req.invite,
            outbox: req.outbox,
            done,
        };
        self.send(room, cmd).await?;
        rx.await.map_err(|_| Unavailable)
    }

    /// A moderator's request; the room answers the connection (or everyone).
    pub(crate) async fn moderate(
        &self,
        room: &RoomName,
        conn: ConnId,
        action: Moderation,
        reply: Outbox,
    ) -> Result<(), Unavailable> {
        let cmd = Command::Moderate {
            conn,
            action,
            reply,
        };
        self.send(room, cmd).await
    }

    pub(crate) async fn chat(
        &self,
        room: &RoomName,
        conn: ConnId,
        text: String,
        client_id: Option<String>,
    ) -> Result<(), Unavailable> {
        self.send(
            room,
            Command::Chat {
                conn,
                text,
                client_id,
            },
        )
        .await
    }

    pub(crate) async fn typing(&self, room: &RoomName, conn: ConnId) -> Result<(), Unavailable> {
        self.send(room, Command::Typing { conn }).await
    }

    pub(crate) async fn leave(&self, room: &RoomName, conn: ConnId) -> Result<(), Unavailable> {
        let (done, rx) = oneshot::channel();
        self.send(
            room,
            Command::Leave {
                conn,
                done: Some(done),
            },
        )
        .await?;
        rx.await.map_err(|_| Unavailable)
    }

    /// The connection closed: leave without waiting for an answer.
    pub(crate) async fn disconnect(&self, room: &RoomName, conn: ConnId) {
        // A room that is gone has nothing to clean up.
        let _ = self.send(room, Command::Leave { conn, done: None }).await;
    }

    /// A page of the room's stored messages (see [`crate::store::Store::history`]) for a
    /// connection that is in the room: the room task checks that (a user kicked a moment ago
    /// is not), reads the store and answers the connection.
    pub(crate) async fn history(
        &self,
        room: &RoomName,
        conn: ConnId,
        (before, limit): (Option<u64>, usize),
        reply: Outbox,
    ) -> Result<(), Unavailable> {
        let cmd = Command::History {
            conn,
            before,
            limit,
            reply,
        };
        self.send(room, cmd).await
    }

    /// A page of the room's members (answered on `reply`).
    pub(crate) async fn members(
        &self,
        room: &RoomName,
        conn: ConnId,
        (after, limit): (Option<String>, usize),
        reply: Outbox,
    ) -> Result<(), Unavailable> {
        let cmd = Command::Members {
            conn,
            after,
            limit,
            reply,
        };
        self.send(room, cmd).await
    }

    /// A backend's message through the publish API: the stored message (`chat`) or why
    /// not (`error`).
    pub(crate) async fn publish(
        &self,
        room: &RoomName,
        sender: Member,
        (text, client_id): (String, Option<String>),
    ) -> Result<ServerMsg, Unavailable> {
        let (reply, rx) = oneshot::channel();
        let conn = crate::ws::next_conn_id();
        let cmd = Command::Publish {
            conn,
            sender,
            text,
            client_id,
            reply,
        };
        self.send(room, cmd).await?;
        rx.await.map_err(|_| Unavailable)
    }

    /// The figures of every room live on this node, by name.
    pub(crate) async fn stats(&self) -> Vec<RoomStats> {
        let names = self.inner.registry.live_names();
        let asked = futures_util::future::join_all(names.iter().map(|r| self.stats_of(r)));
        // A room that unloaded meanwhile is not live.
        let mut stats: Vec<RoomStats> = asked.await.into_iter().flatten().collect();
        stats.sort_by(|a, b| a.room.cmp(&b.room));
        stats
    }

    /// The figures of one room, if it is live here.
    pub(crate) async fn stats_of(&self, room: &RoomName) -> Option<RoomStats> {
        let (reply, rx) = oneshot::channel();
        let registry = &self.inner.registry;
        if !registry.send_if_live(room, Command::Stats { reply }).await {
            return None;
        }
        rx.await.ok()
    }

    /// An operator's action on a room (loaded for it if need be).
    pub(crate) async fn operate(
        &self,
        room: &RoomName,
        action: Operation,
    ) -> Result<Result<(), ServerMsg>, Unavailable> {
        let (reply, rx) = oneshot::channel();
        self.send(room, Command::Operate { action, reply }).await?;
        rx.await.map_err(|_| Unavailable)
    }

    /// The store, for the API's reads.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The rules of every room.
    pub(crate) fn book(&self) -> &AccessBook {
        &self.inner.book
    }

    /// Queue `cmd` for `room`, loading the room if needed.
    async fn send(&self, room: &RoomName, cmd: Command) -> Result<(), Unavailable> {
        let spawn = |slot| self.spawn(slot);
        self.inner
            .registry
            .send(room, cmd, spawn)
            .await
            .map_err(|_| Unavailable)
    }

    /// The task for a room the registry found not live. (A plain fn: the room task's future
    /// is checked for `Send` here, outside the async `send` it recurses into.)
    fn spawn(&self, slot: Slot<Command>) -> TaskFuture {
        let task = task::RoomTask {
            slot,
            rooms: self.clone(),
        };
        Box::pin(task.run())
    }

    /// Cluster: hand another node's event to the room, if it is live here (a room that is
    /// not reads the store when it loads).
    pub(crate) async fn remote(&self, room: &RoomName, node: NodeId, relay: Relay) {
        let _ = self
            .inner
            .registry
            .send_if_live(room, Command::Remote { node, relay })
            .await;
    }

    pub(crate) async fn node_gone_all(&self, node: NodeId) {
        self.inner
            .registry
            .send_to_all(|| Command::NodeGone(node))
            .await
    }

    pub(crate) async fn node_seen_all(&self) {
        self.inner.registry.send_to_all(|| Command::NodeSeen).await
    }

    pub(crate) async fn resync_all(&self) {
        self.inner.registry.send_to_all(|| Command::Resync).await
    }

    /// In a cluster: why the link to the other nodes is not working now.
    pub(crate) fn link_trouble(&self) -> Option<String> {
        self.inner.broker.link_trouble()
    }

    /// Whether the store answers (within 3 s) and, in a cluster, the link to the other
    /// nodes works: what `/readyz` reports; `Err` says why not.
    pub(crate) async fn readiness(&self) -> Result<(), String> {
        if let Some(why) = self.store_trouble().await {
            return Err(why);
        }
        match self.inner.broker.link_trouble() {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// Why the store does not answer (within 3 s), if it does not.
    pub(crate) async fn store_trouble(&self) -> Option<String> {
        let store = self.inner.store.clone();
        let ping = tokio::task::spawn_blocking(move || store.ping());
        match tokio::time::timeout(Duration::from_secs(3), ping).await {
            Ok(Ok(Ok(()))) => None,
            Ok(Ok(Err(err))) => Some(format!("store: {err}")),
            Ok(Err(err)) => Some(format!("store: {err}")),
            Err(_) => Some("store: no answer within 3 s".into()),
        }
    }

    pub fn live_rooms(&self) -> usize {
        self.inner.registry.len()
    }

    /// Stop creating rooms and let every room task finish its queue and exit; returns when
    /// they have (or `timeout` passed, returning false).
    pub async fn close(&self, timeout: Duration) -> bool {
        self.inner.registry.close(timeout).await
    }
}
