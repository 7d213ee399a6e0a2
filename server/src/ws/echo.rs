//! `GET /echo`: a plain WebSocket echo (text and binary) for protocol conformance suites.
//! Answers pings, never pings on its own, and has its own (large) message limit.

use super::frames::{self, Assembler, Incoming};
use actix_ws::{CloseCode, CloseReason, MessageStream, Session};
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(
    mut session: Session,
    stream: MessageStream,
    max: usize,
    shutdown: CancellationToken,
) {
    let mut stream = stream.max_frame_size(max);
    let mut assembler = Assembler::new(max);
    let close = loop {
        let msg = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break Some(CloseReason::from(CloseCode::Away)),
            msg = stream.recv() => msg,
        };
        let msg = match msg {
            None => break None,
            Some(Err(err)) => break Some(frames::close_for(&err)),
            Some(Ok(msg)) => msg,
        };
        let sent = match assembler.push(msg) {
            Ok(None) => Ok(()),
            Ok(Some(Incoming::Text(t))) => session.text(t).await,
            Ok(Some(Incoming::Binary(b))) => session.binary(b).await,
            Ok(Some(Incoming::Ping(b))) => session.pong(&b).await,
            Ok(Some(Incoming::Pong)) => Ok(()),
            // Echo the peer's close code back, as RFC 6455 §5.5.1 suggests.
            Ok(Some(Incoming::Close(reason))) => {
                break Some(reason.map_or(CloseCode::Normal.into(), |r| r.code.into()))
            }
            Err(close) => break Some(close),
        };
        if sent.is_err() {
            break None;
        }
    };
    if let Some(close) = close {
        let _ = session.close(Some(close)).await;
    }
}
