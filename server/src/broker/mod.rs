//! Fan-out: delivering a room's encoded frames to the connections subscribed to it.
//!
//! [`Broker`] is the seam for scale-out: [`LocalBroker`] is the embedded in-process
//! implementation, [`redis::RedisBroker`] the cluster's (local fan-out, and [`Relay`]
//! events to the other nodes through Redis). A frame is encoded once and
//! shared ([`Frame`] clones are reference-counted); delivery never awaits a recipient.

mod local;
mod queue;
pub mod redis;
pub mod relay;

pub use local::LocalBroker;
pub(crate) use queue::Rx;
pub use relay::{NodeId, Relay};

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};
use tandem_shared::ids::RoomName;
use tokio_util::sync::CancellationToken;

/// One or more encoded WebSocket frames ([`crate::wire`]), shared by every recipient.
pub type Frame = crate::wire::Wire;

/// Identifies one WebSocket connection for the lifetime of the process.
pub type ConnId = u64;

/// The sending half of a connection's outbox of `F` (JSON text [`Frame`]s for the room
/// protocol; the document endpoint queues its binary messages, `crate::docs::DocFrame`).
///
/// Overflow policy: the queue is bounded ([`crate::Config::outbox_capacity`] frames). When it is
/// full the connection is a slow consumer: it is marked (`slow` is cancelled) and its session
/// closes it with 1013 "slow consumer"; the frame is dropped. The client reconnects and catches
/// up from its last `seq` (`join` with `since`; a Yjs client resyncs with sync step 1). So a
/// reader that stalls costs at most the queue, and never stalls the room or the document.
///
/// Presence and typing frames are [`Outbox::offer`]ed instead: on overflow they are dropped
/// and the outbox remembers it (`stale`), and the room sends that connection a full presence
/// frame once there is room again. They never make a slow consumer.
#[derive(Debug)]
pub struct Outbox<F = Frame> {
    tx: queue::Tx<F>,
    slow: CancellationToken,
    /// A droppable frame was dropped: the connection needs a resync.
    stale: Arc<AtomicBool>,
}

// Not derived: that would require `F: Clone`, and the queue is shareable whatever it carries.
impl<F> Clone for Outbox<F> {
    fn clone(&self) -> Self {
        Outbox {
            tx: self.tx.clone(),
            slow: self.slow.clone(),
            stale: self.stale.clone(),
        }
    }
}

impl<F> Outbox<F> {
    /// An outbox of `capacity` frames (it allocates none until one is queued), the queue's
    /// receiving end, and the slow-consumer mark.
    pub(crate) fn new(capacity: usize) -> (Outbox<F>, Rx<F>, CancellationToken) {
        let (tx, rx) = queue::queue(capacity);
        let slow = CancellationToken::new();
        (
            Outbox {
                tx,
                slow: slow.clone(),
                stale: Arc::new(AtomicBool::new(false)),
            },
            rx,
            slow,
        )
    }

    /// Queue `frame` without waiting; on overflow, mark the connection slow (see type docs).
    pub fn deliver(&self, frame: F) {
        match self.tx.try_send(frame) {
            Ok(()) => {}
            Err(queue::Refused::Full) => {
                if !self.slow.is_cancelled() {
                    crate::metrics::METRICS.slow_consumers.inc();
                    tracing::warn!("outbox full: closing slow consumer");
                    self.slow.cancel();
                }
            }
            // The session is gone; its disconnect reaches the room separately.
            Err(queue::Refused::Closed) => {}
        }
    }

    /// Queue a droppable frame (presence, typing) without waiting; on overflow drop it and
    /// remember that the connection needs a resync.
    pub fn offer(&self, frame: F) {
        if let Err(queue::Refused::Full) = self.tx.try_send(frame) {
            self.stale.store(true, Ordering::Relaxed);
        }
    }

    /// The same queue with its own stale flag: each room a connection is in resyncs its
    /// own presence.
    pub fn for_room(&self) -> Outbox<F> {
        Outbox {
            tx: self.tx.clone(),
            slow: self.slow.clone(),
            stale: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether droppable frames were dropped since the last call (and there is room now to
    /// send the resync).
    pub fn take_stale(&self) -> bool {
        self.tx.capacity() > 0 && self.stale.swap(false, Ordering::Relaxed)
    }
}

/// Room fan-out. Implementations must not block: `publish` runs inside a room's loop.
pub trait Broker: Send + Sync + 'static {
    fn subscribe(&self, room: &RoomName, conn: ConnId, outbox: Outbox);
    fn unsubscribe(&self, room: &RoomName, conn: ConnId);
    /// Deliver `frame` to every subscriber of `room`.
    fn publish(&self, room: &RoomName, frame: &Frame);
    /// Deliver a droppable `frame` (presence, typing: see [`Outbox::offer`]).
    fn publish_droppable(&self, room: &RoomName, frame: &Frame);
    /// Subscribe several connections at once (a batch of joins: one rebuild, not one each).
    fn subscribe_many(&self, room: &RoomName, conns: Vec<(ConnId, Outbox)>) {
        for (conn, outbox) in conns {
            self.subscribe(room, conn, outbox);
        }
    }
    /// Unsubscribe several connections at once.
    fn unsubscribe_many(&self, room: &RoomName, conns: &[ConnId]) {
        for conn in conns {
            self.unsubscribe(room, *conn);
        }
    }
    /// This node's id in a cluster; `None` in one process (nothing is relayed).
    fn node(&self) -> Option<NodeId> {
        None
    }
    /// Tell the other nodes (without waiting; see [`redis::RedisBroker`] for what happens
    /// when they cannot be told). `room`: the room or document it is about.
    fn relay(&self, _room: Option<&RoomName>, _relay: Relay) {}
    /// In a cluster: why the link to the other nodes is not working now (`/readyz`).
    fn link_trouble(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_outbox_drops_presence_and_resyncs_but_closes_for_chat() {
        let (outbox, mut rx, slow) = Outbox::<u32>::new(2);
        let room = outbox.for_room();
        let other_room = outbox.for_room();
        room.offer(1);
        room.offer(2);
        room.offer(3);
        assert!(!slow.is_cancelled(), "presence never makes a slow consumer");
        assert!(!room.take_stale(), "no resync until there is room for it");
        assert_eq!(rx.try_recv(), Some(1));
        assert!(room.take_stale(), "the room that dropped one resyncs");
        assert!(!room.take_stale(), "once");
        assert!(
            !other_room.take_stale(),
            "the connection's other rooms dropped nothing"
        );
        room.deliver(4);
        room.deliver(5);
        assert!(
            slow.is_cancelled(),
            "a chat frame that does not fit closes it"
        );
    }
}
