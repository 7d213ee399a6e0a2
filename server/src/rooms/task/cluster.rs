//! The room task in a cluster: messages the shared store numbered, taken in `seq` order
//! whichever node stored them (a `seq` that skips is a gap, filled from the store before
//! anything after it goes out), other nodes' events, and what this node tells them.

use super::State;
use crate::broker::{relay::Action, NodeId, Relay};
use crate::rooms::room::{client_id_reused, Output};
use std::sync::Arc;
use std::time::Duration;
use tandem_shared::{ChatMessage, ServerMsg};

/// How soon a failed catch-up is tried again.
pub(super) const RETRY: Duration = Duration::from_millis(500);
/// Messages read per page while catching up.
const PAGE: usize = 1000;

impl State {
    /// Tell the other nodes (a no-op without a cluster).
    pub(super) fn relay(&self, relay: Relay) {
        self.rooms.inner.broker.relay(Some(&self.name), relay);
    }

    /// Take what the store numbered for this batch's `Posted` outputs (in order): each one
    /// after the messages before it that this room has not seen yet. A message the store
    /// already held under its `client_id` (a retry through another node) is the sender's
    /// ack only — or, with another text, an error.
    ///
    /// They go out after the batch's other outputs: those include messages of other nodes
    /// taken during the batch, which come first in `seq` (and a join in the batch saw the
    /// room before these, so its connection gets them as broadcasts).
    pub(super) async fn settle(&mut self, stored: Vec<Arc<ChatMessage>>) {
        let mut posted = Vec::new();
        self.out.retain(|o| match o {
            Output::Posted { conn, msg } => {
                posted.push((*conn, msg.clone()));
                false
            }
            _ => true,
        });
        for ((conn, sent), msg) in posted.into_iter().zip(stored) {
            if msg.seq > self.room.last_seq() {
                self.catch_up(Some(msg.seq)).await;
                if self.room.accept(msg.clone(), &mut self.out) {
                    self.relay(Relay::Chat {
                        msg: ChatMessage::clone(&msg),
                    });
                } else {
                    // Stored, but the messages before it could not be read: it goes out
                    // once they can (`behind`), and the sender's retry is deduplicated.
                    self.behind = true;
                }
            } else if msg.text == sent.text {
                self.out
                    .push(Output::To(conn, ServerMsg::Chat(ChatMessage::clone(&msg))));
            }
            if msg.text != sent.text {
                let refused = client_id_reused(self.name.to_string(), sent.client_id.clone());
                self.out.push(Output::To(conn, refused));
            }
        }
    }

    /// Read from the store the messages after the last one taken and before `before` (all
    /// of them with `None`), and take them. Returns false if the store failed (the room is
    /// then `behind` and tries again).
    pub(super) async fn catch_up(&mut self, before: Option<u64>) -> bool {
        let last = self.room.last_seq();
        let mut upper = before;
        let mut pages: Vec<Vec<Arc<ChatMessage>>> = Vec::new();
        loop {
            if upper.is_some_and(|b| b <= last + 1) {
                break;
            }
            let limit = upper.map_or(PAGE, |b| ((b - last - 1) as usize).min(PAGE));
            let store = self.rooms.inner.store.clone();
            let name = self.name.clone();
            let read = move || store.history(&name, upper, limit);
            let page = match tokio::task::spawn_blocking(read).await {
                Ok(Ok(page)) => page,
                failure => {
                    tracing::warn!(room = %self.name, last, ?upper, ?failure, "catch-up read failed");
                    self.behind = true;
                    return false;
                }
            };
            let reached = !page.has_more || page.messages.first().is_none_or(|m| m.seq <= last + 1);
            let fresh: Vec<_> = page.messages.into_iter().filter(|m| m.seq > last).collect();
            upper = fresh.first().map(|m| m.seq);
            let done = reached || fresh.is_empty();
            pages.push(fresh);
            if done {
                break;
            }
        }
        let mut taken = 0;
        for msg in pages.into_iter().rev().flatten() {
            if self.room.accept(msg, &mut self.out) {
                taken += 1;
            }
        }
        if taken > 0 {
            tracing::debug!(room = %self.name, last, taken, "caught up from the store");
        }
        self.behind = false;
        true
    }

    /// The link to the other nodes is back: read what was missed, restate who is here, and
    /// ask who is there.
    pub(super) async fn resync(&mut self) {
        self.catch_up(None).await;
        let members = self.room.members_here();
        self.relay(Relay::PresenceFull { members });
        self.relay(Relay::PresenceAsk);
    }

    /// Another node's event about this room.
    pub(super) async fn remote(&mut self, node: NodeId, relay: Relay) {
        match relay {
            Relay::Chat { msg } => {
                let seq = msg.seq;
                if seq <= self.room.last_seq() {
                    return; // seen already (read from the store, or relayed twice)
                }
                self.catch_up(Some(seq)).await;
                if !self.room.accept(Arc::new(msg), &mut self.out) {
                    self.behind = true;
                }
            }
            Relay::Presence { joined, left } => self.room.remote_presence(node, joined, left),
            Relay::PresenceFull { members } => self.room.remote_full(node, members),
            Relay::PresenceAsk => {
                let members = self.room.members_here();
                if !members.is_empty() {
                    self.relay(Relay::PresenceFull { members });
                }
            }
            Relay::Typing { member } => self.room.remote_typing(member),
            Relay::Rules { action } => self.rules_changed(action).await,
            _ => {}
        }
    }

    /// Another node changed the room's rules (and stored them): read them, and do to the
    /// people here what the action does.
    async fn rules_changed(&mut self, action: Option<Action>) {
        if self.rooms.book().reload(&self.name).await.is_err() {
            tracing::warn!(room = %self.name, "rules changed elsewhere but could not be read");
        }
        self.refresh_rules();
        if let Some(effect) = action {
            self.apply(&effect).await;
        }
    }
}
