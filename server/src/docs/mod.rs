//! Shared documents: every room has a Yjs document (its text is the `Y.Text` named
//! [`TEXT`]), edited through `GET /yjs/<room>` with the y-websocket protocol.
//!
//! Like rooms: each live document is one task (`task.rs`) that owns a [`doc::SharedDoc`] (the
//! `yrs::Doc` and the connections' awareness) and is reached through [`Docs`], a cloneable
//! handle with a bounded queue per document. A document loads from the store (snapshot plus
//! update log) on first use and unloads when no connection has used it for a while. An update
//! is relayed only after it is stored. Each connection is someone ([`Who`]): the room's rules
//! (the [`crate::access::AccessBook`]'s) decide whether their updates are accepted, and the
//! room task expels a kicked user's connections.

mod awareness;
mod doc;
mod task;

pub(crate) use awareness::valid_state as valid_awareness_state;
pub(crate) use doc::Limits;

use crate::access::{AccessBook, Who};
use crate::broker::{Broker, ConnId, NodeId, Outbox, Relay};
use crate::registry::{Registry, Slot, TaskFuture};
use crate::store::Store;
use bytes::Bytes;
use std::{sync::Arc, time::Duration};
use tandem_shared::ids::RoomName;
use tokio::sync::oneshot;
use yrs::sync::awareness::AwarenessUpdate;
use yrs::{StateVector, Update};

/// The name of the room text in every document: `doc.getText('content')` in Yjs.
pub const TEXT: &str = "content";

/// Commands queued per document before senders wait (backpressure onto the sessions).
const DOC_QUEUE: usize = 1024;

/// Why the server closes a `/yjs` connection. y-websocket has no error message, so the close
/// code and reason are all a client learns; the server logs the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// A message that is not valid y-protocols, or an update yrs cannot apply.
    Malformed,
    /// An update bigger than `--doc-max-update`.
    UpdateTooLarge,
    /// The document would grow beyond `--doc-max-bytes`.
    DocTooLarge,
    /// The document could not be loaded or stored.
    Unavailable,
    /// An awareness state that is not a JSON object or `null`, or bigger than 16 KiB.
    BadAwareness,
    /// Over the rate limit (`--doc-rate-*`): a sync message at once, awareness after a
    /// burst's worth of refused ones.
    RateLimited,
    /// A change to the document from someone who may only read it (a viewer, a read-only
    /// room).
    ReadOnly,
    /// The user was kicked or banned from the room.
    Removed,
}

// `Close::BadAwareness`'s reason names the limit.
const _: () = assert!(awareness::MAX_STATE_BYTES == 16 * 1024);

impl Close {
    pub(crate) fn code(self) -> u16 {
        match self {
            Close::Malformed => 4400,
            Close::UpdateTooLarge => 1009,
            Close::DocTooLarge => 4413,
            Close::Unavailable => 1011,
            Close::BadAwareness => 4400,
            Close::RateLimited => 1008,
            Close::ReadOnly | Close::Removed => 4403,
        }
    }

    pub(crate) fn reason(self) -> &'static str {
        match self {
            Close::Malformed => "malformed message",
            Close::UpdateTooLarge => "update too large",
            Close::DocTooLarge => "document size limit reached",
            Close::Unavailable => "document unavailable; reconnect later",
            Close::BadAwareness => "awareness state must be a JSON object or null, at most 16 KiB",
            Close::RateLimited => "rate limit exceeded",
            Close::ReadOnly => "read-only: you may not change this document",
            Close::Removed => "removed from the room",
        }
    }
}

/// What a document task queues for one connection: a y-protocols message framed for the
/// wire (encoded once and shared by every recipient, [`crate::wire`]), or the order to close.
#[derive(Debug, Clone)]
pub(crate) enum DocFrame {
    Message(Bytes),
    Close(Close),
}

/// A decoded message from a client, as the session hands it on.
#[derive(Debug)]
pub(crate) enum ClientMsg {
    SyncStep1(StateVector),
    /// Sync step 2 or an update, with its size in bytes.
    Update(Update, usize),
    Awareness(AwarenessUpdate),
    QueryAwareness,
}

#[derive(Debug)]
enum Command {
    Connect {
        conn: ConnId,
        who: Who,
        outbox: Outbox<DocFrame>,
        done: oneshot::Sender<()>,
    },
    /// Close every connection of `user` (kicked or banned from the room), or everyone's
    /// (the room closed).
    Expel {
        user: Option<String>,
    },
    Msg {
        conn: ConnId,
        msg: ClientMsg,
    },
    Disconnect {
        conn: ConnId,
    },
    /// Cluster: another node's update or awareness.
    Remote {
        node: NodeId,
        relay: Relay,
    },
    /// Cluster: a node is dead or gone; its awareness states go.
    NodeGone(NodeId),
    /// Cluster: the backplane link is back; read what was missed from the store.
    Resync,
}

/// The document could not take the request: it failed to load, or the server is stopping.
#[derive(Debug, thiserror::Error)]
#[error("document unavailable")]
pub struct Unavailable;

/// Cloneable handle to every live document on this node.
#[derive(Clone)]
pub struct Docs {
    inner: Arc<Inner>,
}

struct Inner {
    /// Live documents, one task each.
    registry: Registry<Command>,
    store: Arc<dyn Store>,
    /// Cluster: relays stored updates and awareness to the other nodes.
    broker: Arc<dyn Broker>,
    /// Every room's rules (who may edit).
    book: AccessBook,
    idle: Duration,
    limits: Limits,
}

impl Docs {
    pub(crate) fn new(
        (store, broker): (Arc<dyn Store>, Arc<dyn Broker>),
        book: AccessBook,
        idle: Duration,
        limits: Limits,
    ) -> Docs {
        Docs {
            inner: Arc::new(Inner {
                registry: Registry::new(DOC_QUEUE),
                store,
                broker,
                book,
                idle,
                limits,
            }),
        }
    }

    /// Attach a connection of `who` (already admitted to the room); once this returns, its
    /// outbox has sync step 1 queued.
    pub(crate) async fn connect(
        &self,
        room: &RoomName,
        conn: ConnId,
        who: Who,
        outbox: Outbox<DocFrame>,
    ) -> Result<(), Unavailable> {
        let (done, rx) = oneshot::channel();
        let cmd = Command::Connect {
            conn,
            who,
            outbox,
            done,
        };
        self.send(room, cmd).await?;
        rx.await.map_err(|_| Unavailable)
    }

    /// Cluster: hand another node's event to the document, if it is live here.
    pub(crate) async fn remote(&self, room: &RoomName, node: NodeId, relay: Relay) {
        let cmd = Command::Remote { node, relay };
        let _ = self.inner.registry.send_if_live(room, cmd).await;
    }

    pub(crate) async fn node_gone_all(&self, node: NodeId) {
        self.inner
            .registry
            .send_to_all(|| Command::NodeGone(node))
            .await
    }

    pub(crate) async fn resync_all(&self) {
        self.inner.registry.send_to_all(|| Command::Resync).await
    }

    /// Close `user`'s connections to `room`'s document (everyone's: `None`), if it is live.
    pub(crate) async fn expel(&self, room: &RoomName, user: Option<&str>) {
        let cmd = Command::Expel {
            user: user.map(str::to_owned),
        };
        // Not live: nobody is connected, nothing to do (and nothing to load).
        let _ = self.inner.registry.send_if_live(room, cmd).await;
    }

    pub(crate) async fn message(
        &self,
        room: &RoomName,
        conn: ConnId,
        msg: ClientMsg,
    ) -> Result<(), Unavailable> {
        self.send(room, Command::Msg { conn, msg }).await
    }

    /// The connection closed: detach it without waiting for an answer.
    pub(crate) async fn disconnect(&self, room: &RoomName, conn: ConnId) {
        // A document that is gone has nothing to clean up.
        let _ = self.send(room, Command::Disconnect { conn }).await;
    }

    /// Queue `cmd` for `room`'s document, loading it if needed.
    async fn send(&self, room: &RoomName, cmd: Command) -> Result<(), Unavailable> {
        let spawn = |slot| self.spawn(slot);
        self.inner
            .registry
            .send(room, cmd, spawn)
            .await
            .map_err(|_| Unavailable)
    }

    /// The task for a document the registry found not live. (A plain fn: the task's future
    /// is checked for `Send` here, outside the async `send` it recurses into.)
    fn spawn(&self, slot: Slot<Command>) -> TaskFuture {
        let task = task::DocTask {
            slot,
            docs: self.clone(),
        };
        Box::pin(task.run())
    }

    pub fn live_docs(&self) -> usize {
        self.inner.registry.len()
    }

    /// Stop loading documents and let every document task finish its queue, store what it
    /// holds and exit; returns when they have (or `timeout` passed, returning false).
    pub async fn close(&self, timeout: Duration) -> bool {
        self.inner.registry.close(timeout).await
    }
}
