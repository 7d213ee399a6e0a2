//! Rooms: the registry of live rooms and [`Rooms`], the cloneable handle sessions use.
//!
//! Each live room is one task (`task.rs`) that owns a [`room::Room`] and is reached through a
//! bounded command queue. Rooms load from the store on first use and unload when idle.

mod room;
mod task;

use crate::broker::{Broker, ConnId, Outbox};
use crate::store::Store;
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tandem_shared::ids::RoomName;
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::TaskTracker;

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

#[derive(Clone)]
struct RoomHandle {
    id: u64,
    tx: mpsc::Sender<Command>,
}

/// Cloneable handle to every room on this node.
#[derive(Clone)]
pub struct Rooms {
    inner: Arc<Inner>,
}

struct Inner {
    /// Live rooms. A plain lock: held only to look up or insert, never across an await.
    map: Mutex<Registry>,
    store: Arc<dyn Store>,
    broker: Arc<dyn Broker>,
    tracker: TaskTracker,
    idle: Duration,
}

#[derive(Default)]
struct Registry {
    rooms: HashMap<RoomName, RoomHandle>,
    next_id: u64,
    closed: bool,
}

impl Rooms {
    pub fn new(store: Arc<dyn Store>, broker: Arc<dyn Broker>, idle: Duration) -> Rooms {
        Rooms {
            inner: Arc::new(Inner {
                map: Mutex::new(Registry::default()),
                store,
                broker,
                tracker: TaskTracker::new(),
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

    /// Queue `cmd` for `room`, loading the room if needed. If the room task has just unloaded,
    /// retry with a fresh one.
    async fn send(&self, room: &RoomName, mut cmd: Command) -> Result<(), Unavailable> {
        loop {
            let handle = self.handle(room).ok_or(Unavailable)?;
            match handle.tx.send(cmd).await {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(back)) => {
                    self.forget(room, handle.id);
                    cmd = back;
                }
            }
        }
    }

    fn handle(&self, room: &RoomName) -> Option<RoomHandle> {
        let mut reg = self.inner.map.lock();
        if let Some(h) = reg.rooms.get(room) {
            return Some(h.clone());
        }
        if reg.closed {
            return None;
        }
        reg.next_id += 1;
        let (tx, rx) = mpsc::channel(ROOM_QUEUE);
        let handle = RoomHandle {
            id: reg.next_id,
            tx,
        };
        reg.rooms.insert(room.clone(), handle.clone());
        let task = task::RoomTask {
            name: room.clone(),
            id: handle.id,
            rooms: self.clone(),
            rx,
        };
        self.inner.tracker.spawn(task.run());
        Some(handle)
    }

    /// Remove `room` from the registry if it is still the instance `id`.
    fn forget(&self, room: &RoomName, id: u64) {
        let mut reg = self.inner.map.lock();
        if reg.rooms.get(room).is_some_and(|h| h.id == id) {
            reg.rooms.remove(room);
        }
    }

    /// Unload `room` if it is still instance `id` and nothing is queued for it. Returns
    /// whether it was unloaded; the caller then closes its queue and forwards leftovers.
    fn unload_if_idle(&self, room: &RoomName, id: u64, rx: &mpsc::Receiver<Command>) -> bool {
        let mut reg = self.inner.map.lock();
        if rx.is_empty() && reg.rooms.get(room).is_some_and(|h| h.id == id) {
            reg.rooms.remove(room);
            return true;
        }
        false
    }

    pub fn live_rooms(&self) -> usize {
        self.inner.map.lock().rooms.len()
    }

    /// Stop creating rooms and let every room task finish its queue and exit; returns when
    /// they have (or `timeout` passed, returning false).
    pub async fn close(&self, timeout: Duration) -> bool {
        {
            let mut reg = self.inner.map.lock();
            reg.closed = true;
            reg.rooms.clear();
        }
        self.inner.tracker.close();
        tokio::time::timeout(timeout, self.inner.tracker.wait())
            .await
            .is_ok()
    }
}
