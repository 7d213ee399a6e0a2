//! What the server is known to have of a replica's document, so the page keeps the document
//! in the browser's storage exactly while it holds edits the server may lack, and drops it
//! once they are confirmed.
//!
//! y-websocket has no acknowledgement, but the server answers our sync step 1 only after
//! everything we sent before it (Tandem stores updates before it answers or relays anything
//! of the same batch). So the answer (sync step 2) confirms our whole state as of the step 1
//! we sent; the server's own step 1 says exactly what it has; and every update it relays to
//! us is one it has.

use super::protocol;
use super::replica::Replica;
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, StateVector, Transact};

#[derive(Debug, Default)]
pub(super) struct Confirmed {
    /// What the server has stored, as far as we know.
    server: StateVector,
    /// Our state vector when we sent the sync step 1 not answered yet.
    probe: Option<StateVector>,
}

impl Confirmed {
    /// We sent sync step 1 with `ours`.
    pub(super) fn probe(&mut self, ours: StateVector) {
        self.probe = Some(ours);
    }

    /// The server's sync step 1: its state.
    pub(super) fn server_has(&mut self, sv: StateVector) {
        self.server.merge(sv);
    }

    /// The answer to our sync step 1 arrived.
    pub(super) fn answered(&mut self) {
        if let Some(ours) = self.probe.take() {
            self.server.merge(ours);
        }
    }

    /// An update from the server took our state from `before` to `after`: the server has
    /// what it added.
    pub(super) fn received(&mut self, before: &StateVector, after: StateVector) {
        let added = after
            .iter()
            .filter(|(client, clock)| before.get(client) < **clock)
            .map(|(client, clock)| (*client, *clock));
        self.server.merge(added.collect());
    }

    /// The connection dropped: an outstanding step 1 will not be answered.
    pub(super) fn lost(&mut self) {
        self.probe = None;
    }
}

impl Replica {
    /// The whole document as one update while it holds something the server is not known to
    /// have (keep it in storage); `None` once everything is confirmed (drop it).
    pub fn unsynced(&self) -> Option<Vec<u8>> {
        let txn = self.doc.transact();
        let ours = txn.state_vector();
        let ahead = ours
            .iter()
            .any(|(client, clock)| self.confirmed.server.get(client) < *clock);
        ahead.then(|| txn.encode_state_as_update_v1(&StateVector::default()))
    }

    /// While connected with unconfirmed edits and no step 1 outstanding: a sync step 1 to
    /// send, whose answer confirms them. `None` when there is nothing to confirm.
    pub fn checkpoint(&mut self) -> Option<Vec<u8>> {
        if self.confirmed.probe.is_some() || self.unsynced().is_none() {
            return None;
        }
        let sv = self.doc.transact().state_vector();
        self.confirmed.probe(sv.clone());
        Some(protocol::sync_step1(sv))
    }

    /// Take in a document kept in storage by an earlier page (its unconfirmed edits): merged
    /// like any update, not undoable, and unconfirmed until the server has it. True if the
    /// text changed.
    pub fn restore(&mut self, stored: &[u8]) -> bool {
        let Ok(update) = yrs::Update::decode_v1(stored) else {
            return false;
        };
        let text = {
            let mut txn = self.doc.transact_mut();
            if txn.apply_update(update).is_err() {
                return false;
            }
            yrs::GetString::get_string(&self.text, &txn)
        };
        let changed = text != self.shown;
        self.shown = text;
        changed
    }
}
