//! [`SharedDoc`]: one room's Yjs document and awareness in memory, and the y-protocols
//! replies to what its connections send. Never awaits and knows no socket or SQL: the task
//! stores what [`SharedDoc::take_unstored`] hands it before delivering any [`Output`].
//!
//! Applying an update is guarded: yrs may return an error after integrating part of an
//! update, or panic on input it did not expect. Either way the document is no longer trusted
//! ([`Rejected::Poisoned`]) and the task reloads it from the store, which holds exactly what
//! was applied before.

use super::awareness::{Coalesced, Presence, REMOTE_BASE};
use super::Close;
use crate::broker::ConnId;
use crate::store::StoredDoc;
use bytes::Bytes;
use std::panic::{catch_unwind, AssertUnwindSafe};
use yrs::sync::awareness::AwarenessUpdate;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Options, ReadTxn, StateVector, Transact, Update};

/// Sizes a document is held to (from the configuration).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest encoded document state.
    pub(crate) max_doc: usize,
    /// Largest single update.
    pub(crate) max_update: usize,
    /// Updates in the log that trigger compaction.
    pub(crate) compact_updates: usize,
    /// Bytes in the log that trigger compaction.
    pub(crate) compact_bytes: usize,
}

/// What the task must do, in order, once the batch's updates are stored.
#[derive(Debug)]
pub(super) enum Output {
    To(ConnId, Bytes),
    /// To every connection of the document except `except`.
    All {
        except: Option<ConnId>,
        frame: Bytes,
    },
    Close(ConnId, Close),
}

/// Why an update was not applied.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Rejected {
    /// Refused before touching the document (the connection is closed with this).
    Refused(Close),
    /// yrs failed or panicked while applying it: reload the document from the store.
    Poisoned,
}

/// Counters of the update log since the last snapshot.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Log {
    /// Id of the last stored update.
    pub(super) last_id: u64,
    pub(super) entries: usize,
    pub(super) bytes: usize,
}

/// The stored document could not be rebuilt.
#[derive(Debug, thiserror::Error)]
#[error("stored document does not apply: {0}")]
pub(crate) struct LoadError(String);

pub(super) struct SharedDoc {
    doc: Doc,
    presence: Presence,
    /// Awareness changes to relay at the end of the batch ([`SharedDoc::relay_awareness`]).
    relay: Coalesced,
    limits: Limits,
    /// The encoded size when last measured, plus every update applied since: an upper bound
    /// in practice (merging only shrinks), re-measured exactly when it nears the limit.
    size: usize,
    /// Updates applied in this batch and not yet stored, as yrs encoded them (only what was
    /// new to the document).
    unstored: Vec<Vec<u8>>,
    pub(super) log: Log,
}

pub(super) fn encode(msg: &Message) -> Bytes {
    Bytes::from(msg.encode_v1())
}

fn new_doc() -> Doc {
    // Garbage collection on: the server needs the current state, not a history of it.
    Doc::with_options(Options::default())
}

fn apply_stored(doc: &Doc, what: &str, bytes: &[u8]) -> Result<(), LoadError> {
    let applied = catch_unwind(AssertUnwindSafe(|| {
        let update = Update::decode_v1(bytes).map_err(|e| e.to_string())?;
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| e.to_string())
    }));
    match applied {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(LoadError(format!("{what}: {e}"))),
        Err(_panic) => Err(LoadError(format!("{what}: yrs panicked"))),
    }
}

/// Apply `update` to `doc`, yrs' panics caught: what was new in it, encoded (`[0, 0]` if
/// nothing), or why it did not apply.
fn integrate(doc: &Doc, update: Update) -> Result<Vec<u8>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut txn = doc.transact_mut();
        txn.apply_update(update).map_err(|e| e.to_string())?;
        let new = txn.encode_update_v1();
        txn.commit();
        Ok(new)
    }))
    .unwrap_or_else(|_panic| Err("yrs panicked".to_owned()))
}

/// The encoding of an update that changes nothing.
fn is_noop(update: &[u8]) -> bool {
    update == [0, 0]
}

/// Every deletion in `theirs` is one `ours` already has.
fn deletions_known(theirs: &yrs::IdSet, ours: &yrs::IdSet) -> bool {
    theirs.diff(ours).is_empty()
}

impl SharedDoc {
    /// Rebuild the document from what the store holds.
    pub(super) fn load(stored: &StoredDoc, limits: Limits) -> Result<SharedDoc, LoadError> {
        let doc = new_doc();
        if !stored.snapshot.is_empty() {
            apply_stored(&doc, "snapshot", &stored.snapshot)?;
        }
        let mut bytes = 0;
        for (id, update) in &stored.updates {
            apply_stored(&doc, &format!("update {id}"), update)?;
            bytes += update.len();
        }
        let mut shared = SharedDoc {
            doc,
            presence: Presence::default(),
            relay: Coalesced::default(),
            limits,
            size: 0,
            unstored: Vec::new(),
            log: Log {
                last_id: stored.last_id(),
                entries: stored.updates.len(),
                bytes,
            },
        };
        shared.size = shared.measure();
        Ok(shared)
    }

    /// Swap in a freshly loaded document, keeping the connections' awareness.
    pub(super) fn replace_doc(&mut self, fresh: SharedDoc) {
        self.doc = fresh.doc;
        self.size = fresh.size;
        self.log = fresh.log;
        self.unstored.clear();
    }

    /// The exact encoded size of the whole document.
    fn measure(&self) -> usize {
        self.snapshot().len()
    }

    /// The whole document as one update.
    pub(super) fn snapshot(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// The text of the root `Y.Text` named [`super::TEXT`] (for tests and logs).
    #[cfg(test)]
    pub(super) fn text(&self) -> String {
        use yrs::GetString;
        let text = self.doc.get_or_insert_text(super::TEXT);
        let txn = self.doc.transact();
        text.get_string(&txn)
    }

    /// A connection arrived: send it sync step 1 and the current awareness, as y-websocket's
    /// server does; the client answers with step 2 and asks with its own step 1.
    pub(super) fn connect(&self, conn: ConnId, out: &mut Vec<Output>) {
        let sv = self.doc.transact().state_vector();
        out.push(Output::To(
            conn,
            encode(&Message::Sync(SyncMessage::SyncStep1(sv))),
        ));
        if let Some(states) = self.presence.snapshot() {
            out.push(Output::To(conn, encode(&Message::Awareness(states))));
        }
    }

    /// Sync step 1 from a client: answer with step 2, what it lacks.
    pub(super) fn sync_step1(&self, conn: ConnId, sv: &StateVector, out: &mut Vec<Output>) {
        let diff = self.doc.transact().encode_state_as_update_v1(sv);
        out.push(Output::To(
            conn,
            encode(&Message::Sync(SyncMessage::SyncStep2(diff))),
        ));
    }

    /// Whether `update` would change the document (new content, or deletions it has not
    /// made), without applying it: what a read-only connection may not send.
    pub(super) fn would_change(&self, update: &Update) -> bool {
        let txn = self.doc.transact();
        let known = txn.snapshot();
        update.extends(&known.state_map) || !deletions_known(update.delete_set(), &known.delete_set)
    }

    /// Apply an update (sync step 2 or update) of `len` bytes from `conn` and relay what was
    /// new in it to the others.
    pub(super) fn update(
        &mut self,
        conn: ConnId,
        update: Update,
        len: usize,
        out: &mut Vec<Output>,
    ) -> Result<(), Rejected> {
        if len > self.limits.max_update {
            return Err(Rejected::Refused(Close::UpdateTooLarge));
        }
        if self.size.saturating_add(len) > self.limits.max_doc {
            self.size = self.measure();
            if self.size + len > self.limits.max_doc {
                return Err(Rejected::Refused(Close::DocTooLarge));
            }
        }
        let new = match integrate(&self.doc, update) {
            Ok(new) => new,
            Err(err) => {
                tracing::warn!(conn, %err, "update failed to apply");
                return Err(Rejected::Poisoned);
            }
        };
        if is_noop(&new) {
            return Ok(()); // nothing the document did not already have
        }
        self.size += new.len();
        out.push(Output::All {
            except: Some(conn),
            frame: encode(&Message::Sync(SyncMessage::Update(new.clone()))),
        });
        self.unstored.push(new);
        Ok(())
    }

    /// An awareness update from `conn`: keep what it may change, to relay at the end of the
    /// batch.
    pub(super) fn awareness(&mut self, conn: ConnId, update: AwarenessUpdate) {
        let applied = self.presence.apply(conn, update);
        if !applied.refused.is_empty() {
            tracing::info!(conn, ids = ?applied.refused, "refused awareness for client ids this connection does not own");
        }
        if !applied.changes.clients.is_empty() {
            self.relay.add(conn, applied.changes);
        }
    }

    /// Relay the batch's awareness changes: the latest state of each client id, one frame per
    /// connection they came from, to everyone else.
    /// Returns the changes from this node's own connections, encoded, for the other nodes.
    pub(super) fn relay_awareness(&mut self, out: &mut Vec<Output>) -> Vec<Vec<u8>> {
        let mut ours = Vec::new();
        for (from, update) in self.relay.take() {
            if from < REMOTE_BASE {
                ours.push(update.encode_v1());
            }
            out.push(Output::All {
                except: Some(from),
                frame: encode(&Message::Awareness(update)),
            });
        }
        ours
    }

    /// Query awareness: send every current state.
    pub(super) fn query_awareness(&self, conn: ConnId, out: &mut Vec<Output>) {
        if let Some(states) = self.presence.snapshot() {
            out.push(Output::To(conn, encode(&Message::Awareness(states))));
        }
    }

    /// `conn` left: its awareness entries go, and the others are told (with the batch's
    /// awareness).
    pub(super) fn disconnect(&mut self, conn: ConnId) {
        if let Some(removed) = self.presence.disconnect(conn) {
            self.relay.add(conn, removed);
        }
    }

    /// The updates applied since the last call, to store before delivering anything.
    pub(super) fn take_unstored(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.unstored)
    }

    /// `updates` were stored with ids `first ..`. Returns false if other nodes' updates were
    /// stored in between (ids after `log.last_id`, before `first`): this replica lacks them
    /// and must read them from the store.
    pub(super) fn stored(&mut self, first: u64, updates: &[Vec<u8>]) -> bool {
        self.log.entries += updates.len();
        self.log.bytes += updates.iter().map(Vec::len).sum::<usize>();
        let next = first == self.log.last_id + 1;
        if next {
            self.log.last_id += updates.len() as u64;
        }
        next
    }

    /// An update stored by another node (or read back from the store) under `id`: apply it
    /// and relay what was new in it to every connection here. It is not stored again.
    pub(super) fn apply_remote(
        &mut self,
        id: u64,
        bytes: &[u8],
        out: &mut Vec<Output>,
    ) -> Result<(), LoadError> {
        let decoded = catch_unwind(|| Update::decode_v1(bytes))
            .map_err(|_panic| "yrs panicked decoding it".to_owned())
            .and_then(|decoded| decoded.map_err(|e| e.to_string()));
        let new = decoded
            .and_then(|update| integrate(&self.doc, update))
            .map_err(|e| LoadError(format!("update {id}: {e}")))?;
        if id > self.log.last_id {
            self.log.last_id = id;
            self.log.entries += 1;
            self.log.bytes += bytes.len();
        }
        if !is_noop(&new) {
            self.size += new.len();
            out.push(Output::All {
                except: None,
                frame: encode(&Message::Sync(SyncMessage::Update(new))),
            });
        }
        Ok(())
    }

    pub(super) fn needs_compaction(&self) -> bool {
        self.log.entries >= self.limits.compact_updates
            || self.log.bytes >= self.limits.compact_bytes
    }

    /// The log up to `log.last_id` was folded into a snapshot of `size` bytes.
    pub(super) fn compacted(&mut self, size: usize) {
        self.log.entries = 0;
        self.log.bytes = 0;
        self.size = size;
    }
}

#[cfg(test)]
#[path = "doc_tests.rs"]
mod tests;
