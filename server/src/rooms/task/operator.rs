//! The room task's side of the HTTP API: a backend's message (the publish API, answered on
//! its request's channel once stored), the room's figures (with its message rate), and an
//! operator's actions (moderation without a moderator, closing the room).

use super::State;
use crate::broker::{relay::Action, ConnId, Relay};
use crate::rooms::{Operation, RoomStats};
use std::sync::Arc;
use tandem_shared::{ChatMessage, Member, ServerMsg};
use tokio::sync::oneshot;

/// Messages posted per second over the last minute, in a ring of one-second buckets.
#[derive(Debug)]
pub(super) struct Rate {
    /// `(second, count)`, indexed by the second modulo 60.
    buckets: [(u64, u64); 60],
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            buckets: [(0, 0); 60],
        }
    }
}

impl Rate {
    pub(super) fn count(&mut self, now_ms: u64, n: u64) {
        let sec = now_ms / 1000;
        let bucket = &mut self.buckets[(sec % 60) as usize];
        if bucket.0 != sec {
            *bucket = (sec, 0);
        }
        bucket.1 += n;
    }

    /// Messages in the 60 seconds up to `now_ms`.
    pub(super) fn last_minute(&self, now_ms: u64) -> u64 {
        let sec = now_ms / 1000;
        self.buckets
            .iter()
            .filter(|(s, _)| *s + 60 > sec && *s <= sec)
            .map(|(_, n)| n)
            .sum()
    }
}

impl State {
    /// A backend's message: posted as `sender`; whatever the room answers `conn` first (a
    /// refusal, a retry's original, or the stored message) goes to `reply`.
    pub(super) fn publish(
        &mut self,
        (conn, sender): (ConnId, Member),
        (text, client_id): (String, Option<String>),
        reply: oneshot::Sender<ServerMsg>,
        now: u64,
    ) {
        self.api.insert(conn, reply);
        self.room
            .publish(conn, sender, (text, client_id), now, &mut self.out);
        self.count_refusal();
    }

    /// The batch's messages are stored: the API requests among their senders get theirs.
    /// (In a cluster a stored message whose text is not the one sent is another message
    /// under the same `client_id`; `settle` refuses that one.)
    pub(super) fn answer_published(
        &mut self,
        sent: &[(ConnId, Arc<ChatMessage>)],
        stored: &[Arc<ChatMessage>],
    ) {
        if self.api.is_empty() {
            return;
        }
        for ((conn, sent), msg) in sent.iter().zip(stored) {
            if msg.text != sent.text {
                continue;
            }
            if let Some(reply) = self.api.remove(conn) {
                let _ = reply.send(ServerMsg::Chat(ChatMessage::clone(msg)));
            }
        }
    }

    pub(super) fn stats(&self, now: u64) -> RoomStats {
        let (members, connections) = self.room.counts();
        let rules = self.room.rules();
        RoomStats {
            room: self.name.to_string(),
            members,
            connections,
            last_seq: self.room.last_seq(),
            messages_last_minute: self.rate.last_minute(now),
            read_only: rules.read_only,
            private: rules.private,
        }
    }

    /// An operator's action: moderation (stored, relayed and applied like a moderator's,
    /// without checking anyone's rights), or closing the room (everyone out, here and on
    /// the other nodes).
    pub(super) async fn operate(&mut self, action: Operation) -> Result<(), ServerMsg> {
        match action {
            Operation::Moderate(action) => self.enforce(None, action).await.map(|_| ()),
            Operation::Close => {
                tracing::info!(room = %self.name, "closed by an operator");
                for user in self.room.remove_everyone(&mut self.out) {
                    let action = Some(Action::Kick { user, ban: false });
                    self.relay(Relay::Rules { action });
                }
                self.rooms.inner.docs.expel(&self.name, None).await;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rate;

    #[test]
    fn rate_counts_the_last_minute_only() {
        let mut rate = Rate::default();
        rate.count(1_000, 2);
        rate.count(1_500, 1);
        rate.count(30_000, 4);
        assert_eq!(rate.last_minute(30_000), 7);
        assert_eq!(rate.last_minute(60_999), 7);
        assert_eq!(rate.last_minute(61_000), 4, "second 1 is a minute old");
        // A bucket reused a minute later starts again.
        rate.count(90_000, 1);
        assert_eq!(rate.last_minute(90_000), 1);
    }
}
