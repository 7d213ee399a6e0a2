//! Fan-out: delivering a room's encoded frames to the connections subscribed to it.
//!
//! [`Broker`] is the seam for scale-out (a Redis backplane publishes to other nodes too);
//! [`LocalBroker`] is the embedded in-process implementation. A frame is encoded once and
//! shared ([`Frame`] clones are reference-counted); delivery never awaits a recipient.

mod local;

pub use local::LocalBroker;

use bytestring::ByteString;
use tandem_shared::ids::RoomName;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// One encoded JSON text frame, shared by every recipient.
pub type Frame = ByteString;

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
#[derive(Debug)]
pub struct Outbox<F = Frame> {
    tx: mpsc::Sender<F>,
    slow: CancellationToken,
}

// Not derived: that would require `F: Clone`, and the queue is shareable whatever it carries.
impl<F> Clone for Outbox<F> {
    fn clone(&self) -> Self {
        Outbox {
            tx: self.tx.clone(),
            slow: self.slow.clone(),
        }
    }
}

impl<F> Outbox<F> {
    pub fn new(capacity: usize) -> (Outbox<F>, mpsc::Receiver<F>, CancellationToken) {
        let (tx, rx) = mpsc::channel(capacity);
        let slow = CancellationToken::new();
        (
            Outbox {
                tx,
                slow: slow.clone(),
            },
            rx,
            slow,
        )
    }

    /// Queue `frame` without waiting; on overflow, mark the connection slow (see type docs).
    pub fn deliver(&self, frame: F) {
        match self.tx.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.slow.is_cancelled() {
                    tracing::warn!("outbox full: closing slow consumer");
                    self.slow.cancel();
                }
            }
            // The session is gone; its disconnect reaches the room separately.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// Room fan-out. Implementations must not block: `publish` runs inside a room's loop.
pub trait Broker: Send + Sync + 'static {
    fn subscribe(&self, room: &RoomName, conn: ConnId, outbox: Outbox);
    fn unsubscribe(&self, room: &RoomName, conn: ConnId);
    /// Deliver `frame` to every subscriber of `room`.
    fn publish(&self, room: &RoomName, frame: &Frame);
}
