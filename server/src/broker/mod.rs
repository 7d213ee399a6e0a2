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

/// The sending half of a connection's outbox.
///
/// Overflow policy: the queue is bounded ([`crate::Config::outbox_capacity`] frames). When it is
/// full the connection is a slow consumer: it is marked (`slow` is cancelled) and its session
/// closes it with 1013 "slow consumer"; the frame is dropped. The client reconnects and catches
/// up from its last `seq` (`join` with `since`). So a reader that stalls costs at most the
/// queue, and never stalls the room.
#[derive(Clone, Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Frame>,
    slow: CancellationToken,
}

impl Outbox {
    pub fn new(capacity: usize) -> (Outbox, mpsc::Receiver<Frame>, CancellationToken) {
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
    pub fn deliver(&self, frame: Frame) {
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
