//! The per-connection loop of `GET /yjs/<room>`: the y-websocket protocol for one room's
//! document, and the only code that touches an `actix_ws::Session` for `/yjs`.
//!
//! Every binary message is one y-protocols message (sync step 1, step 2, update, awareness,
//! query awareness), as y-websocket sends them. It is decoded and checked here (an update is
//! fully decoded, so a malformed one never reaches the document), then handed to the document
//! task. One task per connection `select!`s over shutdown, the slow-consumer mark, the
//! document's order to close, incoming frames and the heartbeat tick; the document's messages
//! go to the socket without it (`body.rs`).
//!
//! Awareness states must be JSON objects or `null` (else 4400, see
//! [`crate::docs::valid_awareness_state`]). Every message counts against the connection's rate
//! limit, in messages and bytes (`--doc-rate-*`): a sync message (an update, a sync step) over
//! it closes the connection at once with 1008, since dropping it would leave the document
//! without it and every later update that depends on it (a stock client reconnects and
//! resyncs, losing nothing); awareness over it is dropped (the next state replaces it), and
//! a connection that goes on sending for a burst's worth of refusals is closed with 1008.

use super::body::{self, Ends, Outgoing};
use super::frames::{self, reason, Assembler, Incoming};
use super::ratelimit::{RateLimit, Verdict};
use crate::broker::{ConnId, Outbox};
use crate::docs::{ClientMsg, Close, DocFrame};
use crate::ws::session::Shared;
use actix_ws::{CloseCode, CloseReason, MessageStream, Session};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;
use tandem_shared::ids::RoomName;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::Update;

/// Room for the y-protocols envelope around an update of `--doc-max-update` bytes (message
/// and sync tags, the length varint).
const ENVELOPE: usize = 16;

impl Outgoing for DocFrame {
    type Close = Close;
    fn into_wire(self) -> Result<crate::wire::Wire, Close> {
        match self {
            DocFrame::Message(wire) => Ok(wire),
            DocFrame::Close(why) => Err(why),
        }
    }
}

fn close_for(why: Close) -> Option<CloseReason> {
    reason(CloseCode::from(why.code()), why.reason())
}

/// Decode one y-protocols message. yrs may panic on hostile input (in debug builds, on a
/// client id beyond 53 bits), so decoding is guarded.
pub(crate) fn decode(bytes: &[u8], max_update: usize) -> Result<Option<ClientMsg>, Close> {
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        let msg = Message::decode_v1(bytes).map_err(|_| Close::Malformed)?;
        Ok(Some(match msg {
            Message::Sync(SyncMessage::SyncStep1(sv)) => ClientMsg::SyncStep1(sv),
            Message::Sync(SyncMessage::SyncStep2(u) | SyncMessage::Update(u)) => {
                if u.len() > max_update {
                    return Err(Close::UpdateTooLarge);
                }
                let update = Update::decode_v1(&u).map_err(|_| Close::Malformed)?;
                ClientMsg::Update(update, u.len())
            }
            Message::Awareness(update) => {
                if !update
                    .clients
                    .values()
                    .all(|e| crate::docs::valid_awareness_state(&e.json))
                {
                    return Err(Close::BadAwareness);
                }
                ClientMsg::Awareness(update)
            }
            Message::AwarenessQuery => ClientMsg::QueryAwareness,
            // No authentication here, and no custom messages: nothing to answer.
            Message::Auth(_) | Message::Custom(..) => return Ok(None),
        }))
    }));
    decoded.unwrap_or(Err(Close::Malformed))
}

/// Drive one `/yjs/<room>` connection of `who` (admitted at the handshake) until it closes.
pub(crate) async fn run(
    shared: Shared,
    (room, who): (RoomName, crate::access::Who),
    (mut session, stream): (Session, MessageStream),
    (outbox, ends): (Outbox<DocFrame>, Ends<Close>),
    id: ConnId,
) {
    let config = shared.config.clone();
    let max = config.doc_max_update + ENVELOPE;
    let mut stream = stream.max_frame_size(max);
    let mut assembler = Assembler::new(max);
    let Ends {
        close: mut ordered,
        done,
        slow,
    } = ends;
    tracing::debug!(conn = id, %room, user = %who.user, "yjs connected");
    shared.conns.joined(id, &who.user, room.as_str(), true);
    if shared.docs.connect(&room, id, who, outbox).await.is_err() {
        let close = close_for(Close::Unavailable);
        body::finish(session, &mut stream, close, false, done, config.heartbeat()).await;
        return;
    }

    let mut heartbeat = tokio::time::interval(config.heartbeat());
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    // The byte burst holds at least the largest message, envelope included.
    let burst_bytes = config.doc_rate_burst_bytes.max(max);
    let mut limit = RateLimit::new(config.doc_rate_burst, config.doc_rate_per_sec, last_seen)
        .with_bytes(burst_bytes, config.doc_rate_bytes_per_sec);
    // Whether the close we send answers the client's.
    let mut answering = false;

    let closed = shared.conns.closer(id);
    let close = loop {
        tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => break reason(CloseCode::Away, "server shutting down"),
            _ = closed.cancelled() => break super::closed_by_operator(id),
            _ = slow.cancelled() => {
                tracing::info!(conn = id, %room, "closing slow consumer");
                break reason(CloseCode::Again, "slow consumer");
            }
            // The document ordered a close (after what it queued before), or the body is gone.
            why = &mut ordered => match why {
                Ok(why) => break close_for(why),
                Err(_) => break None,
            },
            msg = stream.recv() => {
                let msg = match msg {
                    None => break None,
                    Some(Err(err)) => {
                        tracing::info!(conn = id, %room, %err, "yjs protocol error");
                        break Some(frames::close_for(&err));
                    }
                    Some(Ok(msg)) => msg,
                };
                last_seen = Instant::now();
                let incoming = match assembler.push(msg) {
                    Ok(Some(incoming)) => incoming,
                    Ok(None) => continue,
                    Err(close) => break Some(close),
                };
                if let Incoming::Binary(bytes) = &incoming {
                    match over_limit(&mut limit, bytes) {
                        Some(Over::Drop) => continue,
                        Some(Over::Close) => {
                            tracing::info!(conn = id, %room, len = bytes.len(), "closing a yjs connection over its rate limit");
                            break close_for(Close::RateLimited);
                        }
                        None => {}
                    }
                }
                match incoming {
                    Incoming::Binary(bytes) => match decode(&bytes, config.doc_max_update) {
                        Ok(None) => {}
                        Ok(Some(msg)) => {
                            if shared.docs.message(&room, id, msg).await.is_err() {
                                break close_for(Close::Unavailable);
                            }
                        }
                        Err(why) => {
                            tracing::warn!(conn = id, %room, len = bytes.len(), reason = why.reason(), "refused a yjs message");
                            break close_for(why);
                        }
                    },
                    Incoming::Text(_) => {
                        tracing::info!(conn = id, %room, "text frame on /yjs");
                        break reason(CloseCode::Unsupported, "binary frames only (y-websocket protocol)");
                    }
                    Incoming::Ping(bytes) => {
                        if session.pong(&bytes).await.is_err() {
                            break None;
                        }
                    }
                    Incoming::Pong => {}
                    Incoming::Close(reason) => {
                        answering = true;
                        break reason.or(Some(CloseCode::Normal.into()));
                    }
                }
            }
            _ = heartbeat.tick() => {
                if last_seen.elapsed() > config.client_timeout() {
                    tracing::info!(conn = id, %room, "heartbeat timeout");
                    break reason(CloseCode::Policy, "heartbeat timeout");
                }
                if session.ping(b"").await.is_err() {
                    break None;
                }
            }
        }
    };

    shared.docs.disconnect(&room, id).await;
    if let Some(close) = &close {
        tracing::debug!(conn = id, %room, code = ?close.code, "closing");
    }
    // What is queued goes out before the close frame, unless the peer is why the queue is
    // full (`body.rs`).
    body::finish(
        session,
        &mut stream,
        close,
        answering,
        done,
        config.heartbeat(),
    )
    .await;
    tracing::debug!(conn = id, %room, "yjs disconnected");
}

/// What to do with a message over the rate limit.
enum Over {
    Drop,
    Close,
}

/// Count a message of `bytes` against `limit` (see the module docs for the policy).
fn over_limit(limit: &mut RateLimit, bytes: &[u8]) -> Option<Over> {
    /// The y-protocols tag of sync messages (steps 1 and 2, updates).
    const SYNC: u8 = 0;
    match limit.check_sized(Instant::now(), bytes.len()) {
        Verdict::Allow => None,
        Verdict::Refuse { .. } if bytes.first() != Some(&SYNC) => Some(Over::Drop),
        Verdict::Refuse { .. } | Verdict::Close => Some(Over::Close),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, ReadTxn, StateVector, Text, Transact};

    fn update_msg(payload: Vec<u8>) -> Vec<u8> {
        Message::Sync(SyncMessage::Update(payload)).encode_v1()
    }

    #[test]
    fn decodes_the_y_protocols_messages() {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("content");
        text.insert(&mut doc.transact_mut(), 0, "hi");
        let u = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        assert!(matches!(
            decode(&update_msg(u.clone()), 1024),
            Ok(Some(ClientMsg::Update(_, n))) if n == u.len()
        ));
        let step1 = Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        assert!(matches!(
            decode(&step1, 1024),
            Ok(Some(ClientMsg::SyncStep1(_)))
        ));
        assert!(matches!(
            decode(&[3], 1024),
            Ok(Some(ClientMsg::QueryAwareness))
        ));
        assert_eq!(
            decode(&update_msg(u), 4).unwrap_err(),
            Close::UpdateTooLarge
        );
    }

    #[test]
    fn awareness_states_must_be_json_objects_or_null() {
        use std::collections::HashMap;
        use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
        let msg = |json: &str| {
            let entry = AwarenessUpdateEntry {
                clock: 1,
                json: json.into(),
            };
            let clients = HashMap::from([(yrs::ClientID::new(7), entry)]);
            Message::Awareness(AwarenessUpdate { clients }).encode_v1()
        };
        for ok in [r#"{"user":{"name":"Ada"}}"#, "null"] {
            assert!(
                matches!(decode(&msg(ok), 1024), Ok(Some(ClientMsg::Awareness(_)))),
                "{ok}"
            );
        }
        for bad in ["not json", "42", "[1]", r#""s""#] {
            assert_eq!(
                decode(&msg(bad), 1024).unwrap_err(),
                Close::BadAwareness,
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_input_is_refused_without_panicking() {
        for bad in [
            vec![],
            vec![0],
            vec![0, 9],
            vec![0, 2, 5, 1, 2],                // truncated payload
            update_msg(vec![0xff; 12]),         // not an update
            update_msg(vec![1, 1, 0xff, 0xff]), // truncated update
        ] {
            assert!(
                matches!(decode(&bad, 1024), Err(Close::Malformed)),
                "{bad:?}"
            );
        }
        // One struct from a client id beyond 53 bits: yrs panics on it in debug builds (a
        // `debug_assert`), which the guard must turn into a refusal.
        let panics = update_msg(vec![
            1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 4, 1, 1, b'c', 1,
            b'x', 0,
        ]);
        if cfg!(debug_assertions) {
            assert!(matches!(decode(&panics, 1024), Err(Close::Malformed)));
        }
    }
}
