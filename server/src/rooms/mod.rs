//! Rooms: the registry of live rooms and [`Rooms`], the cloneable handle sessions use.
//!
//! Each live room is one task (`task.rs`) that owns a [`room::Room`] and is reached through a
//! bounded command queue. Rooms load from the store on first use and unload when idle.
//! Scrollback (`history`) reads the store directly, without the room task.

mod room;
mod task;

use crate::broker::{Broker, ConnId, Outbox};
use crate::registry::{Registry, Slot, TaskFuture};
use crate::store::{HistoryPage, Store};
use std::{sync::Arc, time::Duration};
use tandem_shared::ids::RoomName;
use tokio::sync::oneshot;

/// Commands queued per room before senders wait (backpressure onto the sending sessions).
const ROOM_QUEUE: usize = 1024;

#[derive(Debug)]
pub(crate) enum Command {
    Join {
        conn: ConnId,
        user: String,
        name: String,
        since: Option<u64>,
        outbox: Outbox,
        done: oneshot::Sender<()>,
    },
    Chat {
        conn: ConnId,
        text: String,
        client_id: Option<String>,
    },
    Typing {
        conn: ConnId,
    },
    /// Leave on request (`done` fires once the connection is out) or because it closed.
    Leave {
        conn: ConnId,
        done: Option<oneshot::Sender<()>>,
    },
}

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
    idle: Duration,
}

impl Rooms {
    pub fn new(store: Arc<dyn Store>, broker: Arc<dyn Broker>, idle: Duration) -> Rooms {
        Rooms {
            inner: Arc::new(Inner {
                registry: Registry::new(ROOM_QUEUE),
                store,
                broker,
                idle,
            }),
        }
    }

    pub(crate) async fn join(
        &self,
        room: &RoomName,
        conn: ConnId,
        user: String,
        name: String,
        since: Option<u64>,
        outbox: Outbox,
    ) -> Result<(), Unavailable> {
        let (done, rx) = oneshot::channel();
        let cmd = Command::Join {
            conn,
            user,
            name,
            since,
            outbox,
            done,
        };
        self.send(room, cmd).await?;
        rx.await.map_err(|_| Unavailable)
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

    /// A page of the room's stored messages (see [`Store::history`]), read on the blocking
    /// pool. It bypasses the room task, which is correct because a message is stored before
    /// anyone sees its `seq`; a page from the end may hold a message whose broadcast is still
    /// on its way (clients dedup by `seq`). It neither loads the room nor keeps it loaded.
    pub(crate) async fn history(
        &self,
        room: &RoomName,
        before: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, Unavailable> {
        let store = self.inner.store.clone();
        let name = room.clone();
        let read = move || store.history(&name, before, limit);
        match tokio::task::spawn_blocking(read).await {
            Ok(Ok(page)) => Ok(page),
            failure => {
                tracing::error!(room = %room, ?before, limit, ?failure, "history read failed");
                Err(Unavailable)
            }
        }
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

    pub fn live_rooms(&self) -> usize {
        self.inner.registry.len()
    }

    /// Stop creating rooms and let every room task finish its queue and exit; returns when
    /// they have (or `timeout` passed, returning false).
    pub async fn close(&self, timeout: Duration) -> bool {
        self.inner.registry.close(timeout).await
    }
}
