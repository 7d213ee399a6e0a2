//! Undo and redo of this replica's own edits: a yrs [`UndoManager`] that tracks only the
//! transactions made with the [`LOCAL`] origin (the person's typing), so undoing never takes
//! back what others wrote, and remote updates arriving in between do not reset it. Edits
//! within [`CAPTURE_MS`] of each other undo as one step.

use super::diff::{diff, utf16_len};
use super::protocol;
use super::replica::Replica;
use std::collections::HashSet;
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex, PoisonError,
};
use yrs::undo::{Options, UndoManager};
use yrs::{Doc, GetString, TextRef, Transact};

/// The origin of the person's own transactions.
pub(super) const LOCAL: &str = "local";
/// The key of the observer that captures an undo's updates.
const CAPTURE: &str = "tandem-undo";
/// Edits closer together than this are one undo step.
pub const CAPTURE_MS: u64 = 500;

pub(super) struct Undo {
    manager: UndoManager<()>,
    /// The page time of the edit being made (the manager's clock: the model has none).
    now: Arc<AtomicU64>,
}

impl Undo {
    pub(super) fn new(doc: &Doc, text: &TextRef) -> Undo {
        let now = Arc::new(AtomicU64::new(0));
        let clock = now.clone();
        let options = Options {
            capture_timeout_millis: CAPTURE_MS,
            tracked_origins: HashSet::new(),
            capture_transaction: None,
            timestamp: Arc::new(move || clock.load(Ordering::Relaxed)),
            init_undo_stack: Vec::new(),
            init_redo_stack: Vec::new(),
        };
        let mut manager = UndoManager::with_options(options);
        manager.expand_scope(doc, text);
        manager.include_origin(LOCAL);
        Undo { manager, now }
    }

    /// The edit about to be made happens at page time `now` (ms). Never goes back (the
    /// manager subtracts times), whatever the wall clock does.
    pub(super) fn at(&self, now: u64) {
        self.now.fetch_max(now, Ordering::Relaxed);
    }
}

/// What an undo or redo did: the update to send and where the caret goes.
#[derive(Debug, PartialEq)]
pub struct Undone {
    pub frame: Vec<u8>,
    pub caret: u32,
}

impl Replica {
    /// Take back our last edit (not others'); `None` if there is nothing to undo.
    pub fn undo(&mut self, now: u64) -> Option<Undone> {
        self.step(now, true)
    }

    /// Redo what [`Replica::undo`] took back; `None` if there is nothing to redo.
    pub fn redo(&mut self, now: u64) -> Option<Undone> {
        self.step(now, false)
    }

    pub fn can_undo(&self) -> bool {
        self.undo.manager.can_undo()
    }

    pub fn can_redo(&self) -> bool {
        self.undo.manager.can_redo()
    }

    fn step(&mut self, now: u64, undo: bool) -> Option<Undone> {
        self.undo.at(now);
        // The updates the undo transaction makes, exactly (a std Mutex: the observer must be
        // Send + Sync, and nothing else touches it meanwhile).
        let updates = Arc::new(Mutex::new(Vec::new()));
        let sink = updates.clone();
        let observed = self.doc.observe_update_v1(CAPTURE, move |_, e| {
            let mut v = sink.lock().unwrap_or_else(PoisonError::into_inner);
            v.push(e.update.clone());
        });
        let changed = if undo {
            self.undo.manager.undo_blocking()
        } else {
            self.undo.manager.redo_blocking()
        };
        if observed.is_ok() {
            let _ = self.doc.unobserve_update_v1(CAPTURE);
        }
        if !changed {
            return None;
        }
        let update = {
            let mut v = updates.lock().unwrap_or_else(PoisonError::into_inner);
            yrs::merge_updates_v1(v.drain(..)).ok()?
        };
        let before = std::mem::take(&mut self.shown);
        self.shown = self.text.get_string(&self.doc.transact());
        let caret = diff(&before, &self.shown, None).map_or(0, |s| s.at + utf16_len(&s.insert));
        Some(Undone {
            frame: protocol::update(update),
            caret,
        })
    }
}
