//! The registry of per-room tasks shared by rooms and documents: a map from room name to the
//! bounded queue of the task that owns that room's state, which spawns the task on first use,
//! lets it unload when idle without losing a command, and closes everything on shutdown.

use parking_lot::Mutex;
use std::{collections::HashMap, future::Future, pin::Pin, time::Duration};
use tandem_shared::ids::RoomName;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

/// What a newly spawned task is given: its room, its instance id and its queue.
pub(crate) struct Slot<C> {
    pub(crate) room: RoomName,
    pub(crate) id: u64,
    pub(crate) rx: mpsc::Receiver<C>,
}

/// What [`Slot::next_batch`] found.
pub(crate) enum Next {
    /// Commands are in the batch.
    Batch,
    /// The task sat idle and has been removed from the registry: it should
    /// [`Slot::close`] its queue, hand the leftovers on, and exit.
    Unload,
    /// Every sender is gone (shutdown): finish and exit.
    Stopped,
}

impl<C: Send + 'static> Slot<C> {
    /// Wait for up to `max` commands into `batch`. With `idle` set (nobody is using the task),
    /// unload after that long without a command if nothing is queued meanwhile.
    pub(crate) async fn next_batch(
        &mut self,
        registry: &Registry<C>,
        batch: &mut Vec<C>,
        max: usize,
        idle: Option<Duration>,
    ) -> Next {
        let received = loop {
            let Some(idle) = idle else {
                break self.rx.recv_many(batch, max).await;
            };
            match tokio::time::timeout(idle, self.rx.recv_many(batch, max)).await {
                Ok(n) => break n,
                Err(_elapsed) if registry.unload_if_idle(&self.room, self.id, &self.rx) => {
                    return Next::Unload
                }
                Err(_elapsed) => continue,
            }
        };
        if received == 0 {
            Next::Stopped
        } else {
            Next::Batch
        }
    }

    /// Close the queue (an unloading task) and return what slipped in after the idle check.
    pub(crate) fn close(&mut self) -> Vec<C> {
        self.rx.close();
        std::iter::from_fn(|| self.rx.try_recv().ok()).collect()
    }
}

/// A task's future, boxed: tasks forward leftovers back through the registry, and the
/// indirection keeps that recursion's `Send` check finite.
pub(crate) type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The registry is closed (shutting down): no task will take the command.
#[derive(Debug)]
pub(crate) struct Closed;

pub(crate) struct Registry<C> {
    /// A plain lock: held only to look up or insert, never across an await.
    state: Mutex<State<C>>,
    tracker: TaskTracker,
    /// Commands queued per task before senders wait (backpressure onto the sessions).
    queue: usize,
}

struct State<C> {
    live: HashMap<RoomName, Handle<C>>,
    next_id: u64,
    closed: bool,
}

struct Handle<C> {
    id: u64,
    tx: mpsc::Sender<C>,
}

impl<C> Clone for Handle<C> {
    fn clone(&self) -> Self {
        Handle {
            id: self.id,
            tx: self.tx.clone(),
        }
    }
}

impl<C: Send + 'static> Registry<C> {
    pub(crate) fn new(queue: usize) -> Self {
        Registry {
            state: Mutex::new(State {
                live: HashMap::new(),
                next_id: 0,
                closed: false,
            }),
            tracker: TaskTracker::new(),
            queue,
        }
    }

    /// Queue `cmd` for `room`'s task, spawning `spawn(slot)` if none is live. If the task has
    /// just unloaded, retry with a fresh one.
    pub(crate) async fn send(
        &self,
        room: &RoomName,
        mut cmd: C,
        spawn: impl Fn(Slot<C>) -> TaskFuture,
    ) -> Result<(), Closed> {
        loop {
            let handle = self.handle(room, &spawn).ok_or(Closed)?;
            match handle.tx.send(cmd).await {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(back)) => {
                    self.forget(room, handle.id);
                    cmd = back;
                }
            }
        }
    }

    /// Queue `cmd` for `room`'s task only if it is live (nothing is loaded for it); false if
    /// it was not.
    pub(crate) async fn send_if_live(&self, room: &RoomName, cmd: C) -> bool {
        let handle = self.state.lock().live.get(room).cloned();
        match handle {
            Some(h) => h.tx.send(cmd).await.is_ok(),
            None => false,
        }
    }

    /// The rooms with a live task now.
    pub(crate) fn live_names(&self) -> Vec<RoomName> {
        self.state.lock().live.keys().cloned().collect()
    }

    /// Queue a command made by `cmd` for every live task (those that are live now).
    pub(crate) async fn send_to_all(&self, cmd: impl Fn() -> C) {
        for room in self.live_names() {
            self.send_if_live(&room, cmd()).await;
        }
    }

    fn handle(&self, room: &RoomName, spawn: &impl Fn(Slot<C>) -> TaskFuture) -> Option<Handle<C>> {
        let mut state = self.state.lock();
        if let Some(h) = state.live.get(room) {
            return Some(h.clone());
        }
        if state.closed {
            return None;
        }
        state.next_id += 1;
        let (tx, rx) = mpsc::channel(self.queue);
        let handle = Handle {
            id: state.next_id,
            tx,
        };
        state.live.insert(room.clone(), handle.clone());
        let slot = Slot {
            room: room.clone(),
            id: handle.id,
            rx,
        };
        self.tracker.spawn(spawn(slot));
        Some(handle)
    }

    /// Remove `room` if it is still the instance `id` (a task that failed or stopped).
    pub(crate) fn forget(&self, room: &RoomName, id: u64) {
        let mut state = self.state.lock();
        if state.live.get(room).is_some_and(|h| h.id == id) {
            state.live.remove(room);
        }
    }

    /// Unload `room` if it is still instance `id` and nothing is queued for it. Returns
    /// whether it was unloaded; the caller then closes its queue and forwards leftovers with
    /// [`Registry::send`] (a fresh task takes them).
    pub(crate) fn unload_if_idle(&self, room: &RoomName, id: u64, rx: &mpsc::Receiver<C>) -> bool {
        let mut state = self.state.lock();
        if rx.is_empty() && state.live.get(room).is_some_and(|h| h.id == id) {
            state.live.remove(room);
            return true;
        }
        false
    }

    pub(crate) fn len(&self) -> usize {
        self.state.lock().live.len()
    }

    /// Stop spawning and let every task finish its queue and exit; returns when they have
    /// (or `timeout` passed, returning false).
    pub(crate) async fn close(&self, timeout: Duration) -> bool {
        {
            let mut state = self.state.lock();
            state.closed = true;
            state.live.clear();
        }
        self.tracker.close();
        tokio::time::timeout(timeout, self.tracker.wait())
            .await
            .is_ok()
    }
}
