//! The response body of an upgraded WebSocket: what goes out on the socket, and in what
//! order. A connection's outbox is written to the socket straight from the queue: the
//! frames in it were encoded once by whoever queued them ([`crate::wire`]), and actix-http's
//! dispatcher polls this body until it runs dry or its write buffer is full, then writes
//! once — one wakeup and one write per connection per burst, with no session task in
//! between. What actix-ws's `Session` sends (pings, pongs, the close frame) comes after what
//! is queued. After a close frame the body stays open until the session says it is done
//! (the client answered with its own close, or did not in time), so that a client still
//! sending when we close does not turn our close frame into a reset it may never read.

use crate::broker::{Outbox, Rx};
use crate::wire::Wire;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_ws::{CloseReason, Message, MessageStream, Session};
use bytes::Bytes;
use std::time::Duration;
use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// What an outbox holds: frames for the wire, or (for documents) an order to close.
pub(crate) trait Outgoing: Send + 'static {
    /// Why the connection is to be closed, when it is an order to close.
    type Close: Send + 'static;
    fn into_wire(self) -> Result<Wire, Self::Close>;
}

impl Outgoing for Wire {
    type Close = std::convert::Infallible;
    fn into_wire(self) -> Result<Wire, Self::Close> {
        Ok(self)
    }
}

/// The session's side of a connection's body.
pub(crate) struct Ends<C> {
    /// Fires when the outbox ordered a close (after everything queued before it went out).
    pub(crate) close: oneshot::Receiver<C>,
    /// Dropped when the session is done: then the body ends and actix closes the socket.
    pub(crate) done: oneshot::Sender<()>,
    /// Cancelled when the outbox overflowed: the connection is a slow consumer.
    pub(crate) slow: CancellationToken,
}

/// A connection's body before actix-ws's own body is there to put in it.
pub(crate) struct Unstarted<F: Outgoing> {
    rx: Rx<F>,
    slow: CancellationToken,
    close: oneshot::Sender<F::Close>,
    done: oneshot::Receiver<()>,
}

impl<F: Outgoing> Unstarted<F> {
    /// The response body: this outbox first, then actix-ws's `session` body.
    pub(crate) fn body(self, session: BoxBody) -> Body<F> {
        Body {
            outbox: Some(self.rx),
            slow: self.slow,
            close: Some(self.close),
            session,
            session_ended: false,
            done: self.done,
        }
    }
}

/// A connection's outbox, its body-to-be, and the session's ends of it.
pub(crate) fn outbox<F: Outgoing>(capacity: usize) -> (Outbox<F>, Unstarted<F>, Ends<F::Close>) {
    let (outbox, rx, slow) = Outbox::new(capacity);
    let (close_tx, close) = oneshot::channel();
    let (done, done_rx) = oneshot::channel();
    let unstarted = Unstarted {
        rx,
        slow: slow.clone(),
        close: close_tx,
        done: done_rx,
    };
    (outbox, unstarted, Ends { close, done, slow })
}

pub(crate) struct Body<F: Outgoing> {
    /// `None` once closing: nothing queued after a close goes out.
    outbox: Option<Rx<F>>,
    /// A slow consumer's queue is dropped, not written: it is why the queue is full.
    slow: CancellationToken,
    close: Option<oneshot::Sender<F::Close>>,
    /// actix-ws's own body: the `Session`'s frames. Kept until this body is dropped, even
    /// after it ended (after its close frame): dropping it tells actix-ws's `MessageStream`
    /// that the connection is gone, and it would stop reading the client's answer.
    session: BoxBody,
    /// `session` ended: it is not polled again.
    session_ended: bool,
    done: oneshot::Receiver<()>,
}

impl<F: Outgoing> Body<F> {
    fn stop_outbox(&mut self) {
        self.outbox = None;
    }

    /// The next frame from the outbox, if one is ready.
    fn poll_outbox(&mut self, cx: &mut Context<'_>) -> Option<Wire> {
        let rx = self.outbox.as_mut()?;
        match rx.poll_recv(cx) {
            Poll::Ready(_) if self.slow.is_cancelled() => {
                self.stop_outbox();
                None
            }
            Poll::Ready(item) => match item.into_wire() {
                Ok(wire) => Some(wire),
                Err(why) => {
                    self.stop_outbox();
                    if let Some(tx) = self.close.take() {
                        let _ = tx.send(why);
                    }
                    None
                }
            },
            Poll::Pending => None,
        }
    }
}

impl<F: Outgoing> MessageBody for Body<F> {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if let Some(wire) = this.poll_outbox(cx) {
            return Poll::Ready(Some(Ok(wire)));
        }
        if !this.session_ended {
            match Pin::new(&mut this.session).poll_next(cx) {
                Poll::Ready(Some(frame)) => return Poll::Ready(Some(frame)),
                // The session closed (or went away): nothing more goes out.
                Poll::Ready(None) => {
                    this.session_ended = true;
                    this.stop_outbox();
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        // Linger until the session is done with the client's answer.
        Pin::new(&mut this.done).poll(cx).map(|_| None)
    }
}

/// How long a closed connection waits for the client's answering close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The end of a session: send `close` (if any; at most `wait` for a peer that does not read)
/// and, unless it answers the client's own close, read on until the client's answer or
/// [`CLOSE_WAIT`]; then let the body end, and actix close the socket.
pub(crate) async fn finish(
    session: Session,
    stream: &mut MessageStream,
    close: Option<CloseReason>,
    answering: bool,
    done: oneshot::Sender<()>,
    wait: Duration,
) {
    if let Some(close) = close {
        let sent = tokio::time::timeout(wait, session.close(Some(close))).await;
        if !answering && matches!(sent, Ok(Ok(()))) {
            let answer = async {
                while let Some(Ok(msg)) = stream.recv().await {
                    if matches!(msg, Message::Close(_)) {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(CLOSE_WAIT, answer).await;
        }
    }
    drop(done);
}
