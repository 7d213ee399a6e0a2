//! The document task in a cluster: updates other nodes stored, taken in id order (an id
//! that skips is a gap, read from the store), their awareness through one stand-in
//! connection per node, and what this node relays to them.

use super::{DocTask, State, StoreFailed};
use crate::broker::{NodeId, Relay};
use crate::docs::awareness::REMOTE_BASE;
use yrs::sync::awareness::AwarenessUpdate;
use yrs::updates::decoder::Decode;

impl DocTask {
    pub(super) fn relay(&self, relay: Relay) {
        self.docs.inner.broker.relay(Some(&self.slot.room), relay);
    }

    /// Tell the other nodes about updates this node stored under ids `first ..`.
    pub(super) fn relay_updates(&self, first: u64, updates: Vec<Vec<u8>>) {
        if self.docs.inner.broker.node().is_none() {
            return;
        }
        for (id, update) in (first..).zip(updates) {
            self.relay(Relay::DocUpdate { id, update });
        }
    }

    /// Read from the store what this replica lacks (every update after the last it has,
    /// and the snapshot if compaction folded some of them) and apply it, relaying what is
    /// new to the connections here. The store failing is a storage failure like any other.
    pub(super) async fn catch_up(&self, st: &mut State) -> Result<(), StoreFailed> {
        let store = self.docs.inner.store.clone();
        let room = self.slot.room.clone();
        let after = st.doc.log.last_id;
        let read = move || store.load_doc_since(&room, after);
        let missing = match tokio::task::spawn_blocking(read).await {
            Ok(Ok(missing)) => missing,
            failure => {
                tracing::error!(room = %self.slot.room, after, ?failure, "document catch-up failed");
                return Err(StoreFailed);
            }
        };
        if !missing.snapshot.is_empty() {
            self.take(st, missing.upto, &missing.snapshot);
        }
        for (id, update) in &missing.updates {
            self.take(st, *id, update);
        }
        Ok(())
    }

    fn take(&self, st: &mut State, id: u64, update: &[u8]) {
        if let Err(err) = st.doc.apply_remote(id, update, &mut st.out) {
            tracing::warn!(room = %self.slot.room, id, %err, "stored update does not apply");
        }
    }

    /// Another node's event about this document.
    pub(super) async fn remote(
        &self,
        st: &mut State,
        node: NodeId,
        relay: Relay,
    ) -> Result<(), StoreFailed> {
        match relay {
            Relay::DocUpdate { id, update } => {
                let last = st.doc.log.last_id;
                if id == last + 1 {
                    self.take(st, id, &update);
                } else if id > last {
                    self.catch_up(st).await?;
                }
            }
            Relay::Awareness { update } => match AwarenessUpdate::decode_v1(&update) {
                Ok(update) => {
                    // Node ids are random: their low bits name the stand-in.
                    let conn = *st
                        .remote
                        .entry(node)
                        .or_insert(REMOTE_BASE | (node & (REMOTE_BASE - 1)));
                    st.doc.awareness(conn, update);
                }
                Err(err) => {
                    tracing::warn!(room = %self.slot.room, node, %err, "undecodable awareness relayed")
                }
            },
            _ => {}
        }
        Ok(())
    }
}
