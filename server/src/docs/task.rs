//! The document task: the one owner of a room's [`SharedDoc`], draining its queue in batches.
//!
//! Each batch runs through the core; the updates it applied are stored in one transaction
//! (group commit), then every output is delivered in order, each frame encoded once and
//! shared, with the batch's awareness last, coalesced to one state per client id. Nothing
//! is relayed before it is stored. When the log has grown enough it is folded into a
//! snapshot. If storing fails the task closes every connection (1011) and exits: the clients
//! reconnect and resync with a fresh task that loads what was stored.

mod cluster;

use super::doc::{Output, Rejected, SharedDoc};
use super::{ClientMsg, Close, Command, DocFrame, Docs};
use crate::access::{RoomAccess, Who};
use crate::broker::{ConnId, Outbox};
use crate::registry::{Next, Slot};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{oneshot, watch};

/// Commands taken from the queue per batch.
const BATCH: usize = 256;

pub(super) struct DocTask {
    pub(super) slot: Slot<Command>,
    pub(super) docs: Docs,
}

struct State {
    doc: SharedDoc,
    outboxes: HashMap<ConnId, Outbox<DocFrame>>,
    /// Who each connection is (for the room's rules).
    who: HashMap<ConnId, Who>,
    /// The room's rules, as the access book publishes them (read when an update arrives).
    rules: watch::Receiver<Arc<RoomAccess>>,
    /// Connections told to close: what they still send is ignored.
    closing: HashSet<ConnId>,
    out: Vec<Output>,
    done: Vec<oneshot::Sender<()>>,
    /// Cluster: the stand-in connection of each other node, owner of its awareness states.
    remote: HashMap<crate::broker::NodeId, ConnId>,
}

/// Storing failed: the document in memory is ahead of the store and must go.
struct StoreFailed;

impl DocTask {
    pub(super) async fn run(mut self) {
        let rules = self.docs.inner.book.watch(&self.slot.room).await.ok();
        let (Some(doc), Some(rules)) = (self.load().await, rules) else {
            // Dropping the queue fails every waiting `connect` with `Unavailable`.
            self.docs
                .inner
                .registry
                .forget(&self.slot.room, self.slot.id);
            return;
        };
        let mut st = State {
            doc,
            outboxes: HashMap::new(),
            who: HashMap::new(),
            rules,
            closing: HashSet::new(),
            out: Vec::new(),
            done: Vec::new(),
            remote: HashMap::new(),
        };
        // Grown per burst and released after it: an idle document holds no batch buffer.
        let mut batch = Vec::new();
        loop {
            let registry = &self.docs.inner.registry;
            let idle = st.outboxes.is_empty().then_some(self.docs.inner.idle);
            match self
                .slot
                .next_batch(registry, &mut batch, BATCH, idle)
                .await
            {
                Next::Batch => {}
                Next::Unload => {
                    self.compact(&mut st, true).await;
                    return self.unload().await;
                }
                Next::Stopped => break,
            }
            let processed = self.process(&mut st, &mut batch).await;
            batch.clear();
            batch.shrink_to(0);
            if processed.is_err() {
                self.fail(st);
                return;
            }
        }
        self.compact(&mut st, true).await;
        tracing::debug!(room = %self.slot.room, "document stopped");
    }

    async fn load(&self) -> Option<SharedDoc> {
        let store = self.docs.inner.store.clone();
        let room = self.slot.room.clone();
        let limits = self.docs.inner.limits;
        let loaded = tokio::task::spawn_blocking(move || store.load_doc(&room)).await;
        let stored = match loaded {
            Ok(Ok(stored)) => stored,
            failure => {
                tracing::error!(room = %self.slot.room, ?failure, "document failed to load");
                return None;
            }
        };
        match SharedDoc::load(&stored, limits) {
            Ok(doc) => {
                tracing::debug!(room = %self.slot.room, updates = stored.updates.len(), "document loaded");
                Some(doc)
            }
            Err(err) => {
                tracing::error!(room = %self.slot.room, %err, "document failed to load");
                None
            }
        }
    }

    async fn process(&self, st: &mut State, batch: &mut Vec<Command>) -> Result<(), StoreFailed> {
        for cmd in batch.drain(..) {
            match cmd {
                Command::Connect {
                    conn,
                    who,
                    outbox,
                    done,
                } => {
                    st.outboxes.insert(conn, outbox);
                    st.who.insert(conn, who);
                    st.doc.connect(conn, &mut st.out);
                    st.done.push(done);
                }
                Command::Msg { conn, msg } => {
                    // From a connection this instance does not know (it attached to an
                    // instance that failed) or has closed: nothing to answer.
                    if !st.outboxes.contains_key(&conn) || st.closing.contains(&conn) {
                        continue;
                    }
                    self.message(st, conn, msg).await?;
                }
                Command::Expel { user } => {
                    let theirs: Vec<ConnId> = st
                        .who
                        .iter()
                        .filter(|(_, who)| user.as_ref().is_none_or(|u| who.user == *u))
                        .map(|(conn, _)| *conn)
                        .collect();
                    for conn in theirs {
                        tracing::info!(room = %self.slot.room, conn, ?user, "expelled");
                        st.close(conn, Close::Removed);
                    }
                }
                Command::Disconnect { conn } => {
                    st.who.remove(&conn);
                    st.outboxes.remove(&conn);
                    st.closing.remove(&conn);
                    st.doc.disconnect(conn);
                }
                Command::Remote { node, relay } => self.remote(st, node, relay).await?,
                Command::NodeGone(node) => {
                    if let Some(conn) = st.remote.remove(&node) {
                        st.doc.disconnect(conn);
                    }
                }
                Command::Resync => self.catch_up(st).await?,
            }
        }
        self.flush(st).await
    }

    async fn message(
        &self,
        st: &mut State,
        conn: ConnId,
        msg: ClientMsg,
    ) -> Result<(), StoreFailed> {
        match msg {
            ClientMsg::SyncStep1(sv) => st.doc.sync_step1(conn, &sv, &mut st.out),
            ClientMsg::Update(update, _) if !st.may_edit(conn) => {
                // A reader's sync step 2 holds nothing new: fine. A change is refused.
                if st.doc.would_change(&update) {
                    tracing::info!(room = %self.slot.room, conn, "change from a read-only connection refused");
                    st.close(conn, Close::ReadOnly);
                }
            }
            ClientMsg::Update(update, len) => match st.doc.update(conn, update, len, &mut st.out) {
                Ok(()) => {}
                Err(Rejected::Refused(close)) => {
                    tracing::warn!(room = %self.slot.room, conn, len, reason = close.reason(), "update refused");
                    st.close(conn, close);
                }
                Err(Rejected::Poisoned) => {
                    tracing::warn!(room = %self.slot.room, conn, len, "update rejected; reloading the document");
                    st.close(conn, Close::Malformed);
                    // Store what came before it, then start again from the store.
                    self.flush(st).await?;
                    let fresh = self.load().await.ok_or(StoreFailed)?;
                    st.doc.replace_doc(fresh);
                }
            },
            ClientMsg::Awareness(update) => st.doc.awareness(conn, update),
            ClientMsg::QueryAwareness => st.doc.query_awareness(conn, &mut st.out),
        }
        Ok(())
    }

    /// Store the updates applied so far, then deliver everything in order.
    async fn flush(&self, st: &mut State) -> Result<(), StoreFailed> {
        let updates = st.doc.take_unstored();
        if !updates.is_empty() {
            let store = self.docs.inner.store.clone();
            let room = self.slot.room.clone();
            let first = st.doc.log.last_id + 1;
            let stored = tokio::task::spawn_blocking(move || {
                let metrics = &crate::metrics::METRICS;
                metrics
                    .store("append_doc_updates", || {
                        store.append_doc_updates(&room, first, &updates)
                    })
                    .map(|first| (first, updates))
            })
            .await;
            match stored {
                Ok(Ok((first, updates))) => {
                    let next = st.doc.stored(first, &updates);
                    self.relay_updates(first, updates);
                    if !next {
                        // Other nodes stored updates in between: read them.
                        self.catch_up(st).await?;
                    }
                }
                failure => {
                    tracing::error!(room = %self.slot.room, ?failure, "storing document updates failed");
                    return Err(StoreFailed);
                }
            }
        }
        // Awareness last, coalesced: after the updates its cursors may point into.
        for update in st.doc.relay_awareness(&mut st.out) {
            self.relay(crate::broker::Relay::Awareness { update });
        }
        st.deliver();
        for done in st.done.drain(..) {
            let _ = done.send(());
        }
        if st.doc.needs_compaction() {
            self.compact(st, false).await;
        }
        Ok(())
    }

    /// Fold the update log into a snapshot (when due, or whenever the log is not empty with
    /// `always`). A failure only leaves the log longer: nothing is lost.
    async fn compact(&self, st: &mut State, always: bool) {
        if st.doc.log.entries == 0 || !(always || st.doc.needs_compaction()) {
            return;
        }
        let snapshot = st.doc.snapshot();
        let size = snapshot.len();
        let upto = st.doc.log.last_id;
        let entries = st.doc.log.entries;
        let store = self.docs.inner.store.clone();
        let room = self.slot.room.clone();
        let done =
            tokio::task::spawn_blocking(move || store.compact_doc(&room, &snapshot, upto)).await;
        match done {
            Ok(Ok(())) => {
                tracing::debug!(room = %self.slot.room, upto, entries, size, "document compacted");
                st.doc.compacted(size);
                crate::metrics::METRICS.document_bytes.observe(size as f64);
            }
            failure => {
                tracing::warn!(room = %self.slot.room, ?failure, "document compaction failed")
            }
        }
    }

    /// Storing failed: close every connection and leave; the next use loads afresh.
    fn fail(mut self, mut st: State) {
        self.docs
            .inner
            .registry
            .forget(&self.slot.room, self.slot.id);
        st.out.clear();
        for outbox in st.outboxes.values() {
            outbox.deliver(DocFrame::Close(Close::Unavailable));
        }
        self.slot.rx.close();
        while let Ok(cmd) = self.slot.rx.try_recv() {
            if let Command::Connect { outbox, .. } = cmd {
                outbox.deliver(DocFrame::Close(Close::Unavailable));
            }
        }
        tracing::warn!(room = %self.slot.room, "document dropped after a storage failure");
    }

    /// Close the queue and pass on anything that slipped in after the idle check.
    async fn unload(mut self) {
        for cmd in self.slot.close() {
            let _ = self.docs.send(&self.slot.room, cmd).await;
        }
        tracing::debug!(room = %self.slot.room, "document unloaded");
    }
}

impl State {
    /// May `conn` change the document now (the rules may have changed since it connected)?
    fn may_edit(&self, conn: ConnId) -> bool {
        self.who
            .get(&conn)
            .is_some_and(|who| self.rules.borrow().may_edit(who).is_ok())
    }

    fn close(&mut self, conn: ConnId, why: Close) {
        self.closing.insert(conn);
        self.out.push(Output::Close(conn, why));
    }

    fn deliver(&mut self) {
        for o in self.out.drain(..) {
            match o {
                Output::To(conn, frame) => {
                    if let Some(outbox) = self.outboxes.get(&conn) {
                        outbox.deliver(DocFrame::Message(crate::wire::binary(&frame)));
                    }
                }
                Output::Close(conn, why) => {
                    if let Some(outbox) = self.outboxes.get(&conn) {
                        outbox.deliver(DocFrame::Close(why));
                    }
                }
                Output::All { except, frame } => {
                    // Framed once, for everyone.
                    let wire = crate::wire::binary(&frame);
                    for (conn, outbox) in &self.outboxes {
                        if Some(*conn) != except && !self.closing.contains(conn) {
                            outbox.deliver(DocFrame::Message(wire.clone()));
                        }
                    }
                }
            }
        }
    }
}
