//! Delivering a batch's outputs in order: replies to their connections (or API requests),
//! broadcasts through the broker in bursts, and subscription changes applied between them.

use super::{now_ms, State};
use crate::broker::{ConnId, Outbox};
use crate::rooms::room::Output;
use crate::ws::codec;
use bytes::BytesMut;
use tandem_shared::{ChatMessage, ErrorCode, ServerMsg};

impl State {
    /// Deliver the outputs in order. Consecutive broadcasts go out as one burst — their
    /// frames in one buffer, one queue entry per subscriber — so a subscriber is woken and
    /// written to once per batch, not once per message. Subscription changes are gathered
    /// and applied to the broker at once, just before the next broadcast (and at the end): a
    /// join storm rebuilds the subscriber list once per batch, and every broadcast still
    /// reaches exactly those subscribed before it.
    pub(super) fn deliver(&mut self, stored: bool) {
        let (broker, name) = (self.rooms.inner.broker.clone(), self.name.clone());
        let (mut subscribe, mut unsubscribe) = (Vec::new(), Vec::new());
        let mut burst = BytesMut::new();
        let flush = |burst: &mut BytesMut| {
            if !burst.is_empty() {
                broker.publish(&name, &burst.split().freeze());
            }
        };
        // Before a broadcast: the burst so far goes to those subscribed before the changes.
        let settle = |burst: &mut BytesMut,
                      subscribe: &mut Vec<(ConnId, Outbox)>,
                      unsubscribe: &mut Vec<ConnId>| {
            if subscribe.is_empty() && unsubscribe.is_empty() {
                return;
            }
            flush(burst);
            if !unsubscribe.is_empty() {
                broker.unsubscribe_many(&name, &std::mem::take(unsubscribe));
            }
            broker.subscribe_many(&name, std::mem::take(subscribe));
        };
        let now = now_ms();
        for o in std::mem::take(&mut self.out) {
            match o {
                Output::To(conn, msg) => {
                    flush(&mut burst);
                    self.send_to(conn, &msg);
                }
                Output::All(msg) => {
                    if let ServerMsg::Chat(_) = msg {
                        self.rate.count(now, 1);
                    }
                    settle(&mut burst, &mut subscribe, &mut unsubscribe);
                    burst.extend_from_slice(&codec::encode(&msg));
                }
                Output::Coalesced(msg) => {
                    settle(&mut burst, &mut subscribe, &mut unsubscribe);
                    flush(&mut burst);
                    broker.publish_droppable(&name, &codec::encode(&msg));
                }
                Output::Posted { msg, .. } if stored => {
                    self.rate.count(now, 1);
                    settle(&mut burst, &mut subscribe, &mut unsubscribe);
                    let chat = ServerMsg::Chat(ChatMessage::clone(&msg));
                    burst.extend_from_slice(&codec::encode(&chat));
                }
                Output::Posted { conn, msg } => {
                    flush(&mut burst);
                    let err = ServerMsg::Error {
                        code: ErrorCode::Unavailable,
                        message: "the message could not be stored; please retry".into(),
                        room: Some(self.name.to_string()),
                        client_id: msg.client_id.clone(),
                    };
                    self.send_to(conn, &err);
                }
                Output::Subscribe(conn) => {
                    if let Some(outbox) = self.outboxes.get(&conn) {
                        unsubscribe.retain(|c| *c != conn);
                        subscribe.push((conn, outbox.clone()));
                    }
                }
                Output::Unsubscribe(conn) => {
                    subscribe.retain(|(c, _)| *c != conn);
                    unsubscribe.push(conn);
                    self.outboxes.remove(&conn);
                }
            }
        }
        flush(&mut burst);
        settle(&mut burst, &mut subscribe, &mut unsubscribe);
    }
}
