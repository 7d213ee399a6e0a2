//! Posting to a room: a member's chat and a backend's publish (a bot sender), the
//! `client_id` dedup that makes retries safe, the tail they are remembered in, and the
//! rollback of what could not be stored.

use super::{Output, Room, DEDUP_LEN, TAIL_LEN};
use crate::broker::ConnId;
use std::sync::Arc;
use tandem_shared::{ChatMessage, ErrorCode, Member, ServerMsg};

/// The refusal of a text under a `client_id` that already named another message (found
/// here, or by a shared store in a cluster).
pub(crate) fn client_id_reused(room: String, client_id: Option<String>) -> ServerMsg {
    let cid = client_id.as_deref().unwrap_or_default();
    ServerMsg::Error {
        code: ErrorCode::ClientIdReused,
        message: format!(
            "client_id {cid} already named another message of yours; \
             use a new one for a new message"
        ),
        room: Some(room),
        client_id,
    }
}

impl Room {
    /// Post a message. `text` and `client_id` are already validated by the session.
    pub(crate) fn chat(
        &mut self,
        conn: ConnId,
        text: String,
        client_id: Option<String>,
        now_ms: u64,
        out: &mut Vec<Output>,
    ) {
        let Some(who) = self.conns.get(&conn) else {
            out.push(self.error(
                conn,
                ErrorCode::NotJoined,
                "join the room before sending to it",
            ));
            return;
        };
        let allowed = self.rules.may_write(who).map_err(|denied| denied.0);
        let sender = self.member(&who.user);
        self.post(conn, sender, (text, client_id), allowed, now_ms, out);
    }

    /// A message from a backend (the publish API), sent as `sender`, a bot that is not a
    /// member: it writes wherever the room is not read-only. `conn` names the request (its
    /// answer is the first output addressed to it, or the stored message).
    pub(crate) fn publish(
        &mut self,
        conn: ConnId,
        sender: Member,
        (text, client_id): (String, Option<String>),
        now_ms: u64,
        out: &mut Vec<Output>,
    ) {
        let allowed = match self.rules.read_only {
            true => Err("the room is read-only"),
            false => Ok(()),
        };
        self.post(conn, sender, (text, client_id), allowed, now_ms, out);
    }

    /// Post `text` as `sender`: a retry of a `client_id` already seen is answered with the
    /// original (or refused if its text differs); otherwise, if `allowed`, it is numbered
    /// (alone; a shared store numbers it in a cluster) and goes out to be stored.
    fn post(
        &mut self,
        conn: ConnId,
        sender: Member,
        (text, client_id): (String, Option<String>),
        allowed: Result<(), &'static str>,
        now_ms: u64,
        out: &mut Vec<Output>,
    ) {
        if let Some(cid) = &client_id {
            if let Some(orig) = self.dedup.get(&(sender.id.clone(), cid.clone())) {
                let reply = if orig.text == text {
                    // A retry: acknowledge with the original, store and broadcast nothing
                    // (whatever changed since: it was stored when it was allowed).
                    ServerMsg::Chat(ChatMessage::clone(orig))
                } else {
                    // Never acknowledge a text with another one's seq.
                    client_id_reused(self.room(), Some(cid.clone()))
                };
                out.push(Output::To(conn, reply));
                return;
            }
        }
        if let Err(denied) = allowed {
            out.push(Output::To(
                conn,
                ServerMsg::Error {
                    code: ErrorCode::Forbidden,
                    message: denied.to_owned(),
                    room: Some(self.room()),
                    client_id,
                },
            ));
            return;
        }
        // In a cluster the shared store numbers it (seq 0 until then) and the room takes it
        // from there ([`Room::accept`]); alone, the room numbers it now.
        let numbered = self.cluster.is_none();
        if numbered {
            self.last_seq += 1;
        }
        let msg = Arc::new(ChatMessage {
            room: self.room(),
            seq: if numbered { self.last_seq } else { 0 },
            sender,
            text,
            ts: now_ms,
            client_id,
        });
        if numbered {
            self.remember(msg.clone());
        }
        out.push(Output::Posted { conn, msg });
    }

    pub(super) fn remember(&mut self, msg: Arc<ChatMessage>) {
        self.last_seq = self.last_seq.max(msg.seq);
        if let Some(cid) = &msg.client_id {
            let key = (msg.sender.id.clone(), cid.clone());
            self.dedup.insert(key.clone(), msg.clone());
            self.dedup_order.push_back(key);
            if self.dedup_order.len() > DEDUP_LEN {
                if let Some(old) = self.dedup_order.pop_front() {
                    self.dedup.remove(&old);
                }
            }
        }
        self.tail.push_back(msg);
        if self.tail.len() > TAIL_LEN {
            self.tail.pop_front();
        }
    }

    /// Undo messages that could not be persisted (they are the newest, in order). In a
    /// cluster nothing was taken before it was stored: nothing to undo.
    pub(crate) fn rollback(&mut self, failed: &[Arc<ChatMessage>]) {
        if self.cluster.is_some() {
            return;
        }
        for msg in failed.iter().rev() {
            if self.tail.back().is_some_and(|m| m.seq == msg.seq) {
                self.tail.pop_back();
            }
            if let Some(cid) = &msg.client_id {
                self.dedup.remove(&(msg.sender.id.clone(), cid.clone()));
            }
        }
        if let Some(first) = failed.first() {
            self.last_seq = self.last_seq.min(first.seq - 1);
        }
    }
}
