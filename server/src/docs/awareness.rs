//! Awareness (cursors, names) of a document's connections, with ownership: a client id
//! belongs to the connection that introduced it, only that connection may change it, and its
//! entries vanish when it drops. Pure; never awaits.
//!
//! y-protocols' awareness rules otherwise: an entry has a clock, a newer clock replaces it, a
//! `null` state at the same or a newer clock removes it. Stock y-websocket clients relay every
//! awareness change they see, other clients' too, so updates about ids a connection does not
//! own are routine echoes: they are dropped quietly unless they try to be newer than the
//! owner's (an attempt to speak for someone else), which is logged.

use crate::broker::ConnId;
use std::{collections::HashMap, sync::Arc};
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::ClientID;

/// Client ids one connection may introduce (a stock client uses one).
pub(super) const MAX_IDS_PER_CONN: usize = 8;
/// Largest awareness state kept for one client id, in bytes of JSON (a stock client's name,
/// color and cursor take well under 1 KiB); a bigger one is refused.
pub(super) const MAX_STATE_BYTES: usize = 16 * 1024;
/// Connection ids from here up stand for other nodes of a cluster (one each): their
/// awareness states are relayed through them, without the per-connection claim limit.
pub(crate) const REMOTE_BASE: ConnId = 1 << 62;
/// Removed ids remembered (with their last clock) so a late echo cannot revive them.
const MAX_TOMBSTONES: usize = 4096;
/// What y-protocols sends as the state of a removed entry.
const NULL: &str = "null";

/// Whether `json` is an awareness state a stock client can take: `null` (a removal) or a JSON
/// object, of at most [`MAX_STATE_BYTES`]. y-protocols `JSON.parse`s every state it receives
/// and editors read fields of it, so anything else (not JSON, a number, a string, an array)
/// breaks every reader: stock `y-websocket` throws in its message handler and never syncs
/// while such a state is kept. Checked as messages arrive (a connection that sends one is
/// closed with 4400), so [`Presence`] only ever holds valid states.
pub(crate) fn valid_state(json: &str) -> bool {
    if json.len() > MAX_STATE_BYTES {
        return false;
    }
    // Values are parsed (so checked) and dropped, not built.
    json == NULL
        || serde_json::from_str::<std::collections::BTreeMap<String, serde::de::IgnoredAny>>(json)
            .is_ok()
}

/// Accepted awareness changes not yet relayed, coalesced to the latest state per client id,
/// with the connection it came from (it is not sent back there). The document task relays
/// them once per batch: a burst of awareness from one client is one frame to each reader,
/// not one per message, so a flood cannot fill readers' outboxes with stale states.
#[derive(Debug, Default)]
pub(super) struct Coalesced {
    changes: HashMap<u64, (ConnId, AwarenessUpdateEntry)>,
}

impl Coalesced {
    /// `update` was accepted from `from` (or is the removal of its ids): it supersedes what
    /// is pending for the same ids ([`Presence`] accepts only newer states).
    pub(super) fn add(&mut self, from: ConnId, update: AwarenessUpdate) {
        for (id, e) in update.clients {
            self.changes.insert(id.get(), (from, e));
        }
    }

    /// What is pending, one update per connection it came from (in connection order).
    pub(super) fn take(&mut self) -> Vec<(ConnId, AwarenessUpdate)> {
        let mut by_conn: HashMap<ConnId, AwarenessUpdate> = HashMap::new();
        for (id, (from, e)) in self.changes.drain() {
            by_conn
                .entry(from)
                .or_insert_with(empty_update)
                .clients
                .insert(ClientID::new(id), e);
        }
        let mut out: Vec<_> = by_conn.into_iter().collect();
        out.sort_by_key(|(conn, _)| *conn);
        out
    }
}

#[derive(Debug, Clone)]
struct Entry {
    owner: ConnId,
    clock: u32,
    json: Arc<str>,
}

/// The awareness states of one document.
#[derive(Debug, Default)]
pub(super) struct Presence {
    entries: HashMap<u64, Entry>,
    /// Ids whose owner left, with their last clock: only a newer state brings them back (the
    /// owner reconnecting; its client renews its state every 15 s), not a late echo.
    tombstones: HashMap<u64, u32>,
}

/// What applying a connection's update did.
#[derive(Debug)]
pub(super) struct Applied {
    /// The accepted changes, to relay to the other connections (empty: nothing to relay).
    pub(super) changes: AwarenessUpdate,
    /// Ids refused because another connection owns them with a clock at or behind the one
    /// offered (so: not an echo), because this connection has claimed too many ids, or because
    /// the state is bigger than [`MAX_STATE_BYTES`].
    pub(super) refused: Vec<u64>,
}

fn entry(clock: u32, json: &Arc<str>) -> AwarenessUpdateEntry {
    AwarenessUpdateEntry {
        clock,
        json: json.clone(),
    }
}

fn empty_update() -> AwarenessUpdate {
    AwarenessUpdate {
        clients: HashMap::new(),
    }
}

impl Presence {
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every current state, for a new connection or a query (None when there are none).
    pub(super) fn snapshot(&self) -> Option<AwarenessUpdate> {
        if self.entries.is_empty() {
            return None;
        }
        let clients = self
            .entries
            .iter()
            .map(|(id, e)| (ClientID::new(*id), entry(e.clock, &e.json)))
            .collect();
        Some(AwarenessUpdate { clients })
    }

    /// Apply `update` from `conn`, keeping only what `conn` may change.
    pub(super) fn apply(&mut self, conn: ConnId, update: AwarenessUpdate) -> Applied {
        let mut out = Applied {
            changes: empty_update(),
            refused: Vec::new(),
        };
        let mut owned = self.entries.values().filter(|e| e.owner == conn).count();
        for (client, offered) in update.clients {
            let id = client.get();
            let removal = &*offered.json == NULL;
            if offered.json.len() > MAX_STATE_BYTES {
                out.refused.push(id);
                continue;
            }
            match self.entries.get_mut(&id) {
                Some(e) if e.owner != conn => {
                    // Someone else's: an echo unless it claims to be newer.
                    if offered.clock > e.clock {
                        out.refused.push(id);
                    }
                }
                Some(e) => {
                    if removal && offered.clock >= e.clock {
                        self.entries.remove(&id);
                        self.tombstones.insert(id, offered.clock);
                        owned -= 1;
                        out.changes.clients.insert(client, offered);
                    } else if !removal && offered.clock > e.clock {
                        e.clock = offered.clock;
                        e.json = offered.json.clone();
                        out.changes.clients.insert(client, offered);
                    }
                }
                None if removal => {} // gone already, or never here: nothing to remove
                None => {
                    if self
                        .tombstones
                        .get(&id)
                        .is_some_and(|&t| offered.clock <= t)
                    {
                        continue; // a late echo of a state that has left
                    }
                    if owned >= MAX_IDS_PER_CONN && conn < REMOTE_BASE {
                        out.refused.push(id);
                        continue;
                    }
                    self.tombstones.remove(&id);
                    self.entries.insert(
                        id,
                        Entry {
                            owner: conn,
                            clock: offered.clock,
                            json: offered.json.clone(),
                        },
                    );
                    owned += 1;
                    out.changes.clients.insert(client, offered);
                }
            }
        }
        out
    }

    /// `conn` is gone: remove its entries; returns the removal to relay (None: it had none).
    pub(super) fn disconnect(&mut self, conn: ConnId) -> Option<AwarenessUpdate> {
        let gone: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, e)| e.owner == conn)
            .map(|(id, _)| *id)
            .collect();
        if gone.is_empty() {
            return None;
        }
        if self.tombstones.len() + gone.len() > MAX_TOMBSTONES {
            // Forgetting old removals only lets very late echoes through; bound the memory.
            self.tombstones.clear();
        }
        let null: Arc<str> = NULL.into();
        let mut update = empty_update();
        for id in gone {
            // Always there: `gone` was collected from `entries` just above.
            let Some(e) = self.entries.remove(&id) else {
                continue;
            };
            self.tombstones.insert(id, e.clock);
            // Newer than the last state, so every peer drops it (as y-protocols does).
            let clock = e.clock.wrapping_add(1);
            update
                .clients
                .insert(ClientID::new(id), entry(clock, &null));
        }
        Some(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(entries: &[(u64, u32, &str)]) -> AwarenessUpdate {
        AwarenessUpdate {
            clients: entries
                .iter()
                .map(|&(id, clock, json)| (ClientID::new(id), entry(clock, &json.into())))
                .collect(),
        }
    }

    fn ids(u: &AwarenessUpdate) -> Vec<(u64, u32, String)> {
        let mut v: Vec<_> = u
            .clients
            .iter()
            .map(|(id, e)| (id.get(), e.clock, e.json.to_string()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_connection_owns_the_ids_it_introduces() {
        let mut p = Presence::default();
        let a = p.apply(1, update(&[(10, 1, r#"{"n":"a"}"#)]));
        assert_eq!(ids(&a.changes), [(10, 1, r#"{"n":"a"}"#.into())]);
        // Connection 2 echoes it (same clock): dropped quietly.
        let echo = p.apply(2, update(&[(10, 1, r#"{"n":"a"}"#)]));
        assert!(echo.changes.clients.is_empty() && echo.refused.is_empty());
        // Connection 2 tries to speak for 10: refused, and the state stays.
        let forged = p.apply(2, update(&[(10, 5, r#"{"n":"evil"}"#), (10, 6, NULL)]));
        assert!(forged.changes.clients.is_empty());
        assert_eq!(forged.refused, [10]);
        assert_eq!(
            ids(&p.snapshot().unwrap()),
            [(10, 1, r#"{"n":"a"}"#.into())]
        );
        // The owner updates it.
        let newer = p.apply(1, update(&[(10, 2, r#"{"n":"A"}"#)]));
        assert_eq!(ids(&newer.changes), [(10, 2, r#"{"n":"A"}"#.into())]);
        let stale = p.apply(1, update(&[(10, 1, r#"{"n":"old"}"#)]));
        assert!(stale.changes.clients.is_empty());
    }

    #[test]
    fn entries_vanish_with_their_connection_and_late_echoes_stay_out() {
        let mut p = Presence::default();
        p.apply(1, update(&[(10, 3, "{}")]));
        p.apply(2, update(&[(20, 1, "{}")]));
        let gone = p.disconnect(1).unwrap();
        assert_eq!(ids(&gone), [(10, 4, NULL.into())]);
        assert_eq!(ids(&p.snapshot().unwrap()), [(20, 1, "{}".into())]);
        assert!(p.disconnect(1).is_none());
        // Connection 2 relays 10's old state after it left: not revived.
        let late = p.apply(2, update(&[(10, 3, "{}")]));
        assert!(late.changes.clients.is_empty());
        // The owner comes back with a newer clock on a new connection: accepted.
        let back = p.apply(3, update(&[(10, 5, "{}")]));
        assert_eq!(ids(&back.changes), [(10, 5, "{}".into())]);
    }

    #[test]
    fn states_must_be_json_objects_or_null() {
        for ok in [
            NULL,
            "{}",
            r##"{"user":{"name":"Ada","color":"#f00"},"cursor":null}"##,
        ] {
            assert!(valid_state(ok), "{ok}");
        }
        let huge = format!(r#"{{"x":"{}"}}"#, "x".repeat(MAX_STATE_BYTES));
        for bad in [
            "",
            "not json",
            "{",
            r#"{"a":}"#,
            "42",
            r#""str""#,
            "[]",
            "[{}]",
            "true",
            " null",
            "{} {}",
            r#"{"a":"\x"}"#,
            &huge,
        ] {
            assert!(!valid_state(bad), "{bad}");
        }
    }

    #[test]
    fn coalesced_keeps_the_latest_state_per_id_and_its_sender() {
        let mut c = Coalesced::default();
        for clock in 1..=50 {
            c.add(1, update(&[(10, clock, "{}")]));
        }
        c.add(2, update(&[(20, 1, "{}")]));
        c.add(1, update(&[(11, 1, "{}")]));
        c.add(1, update(&[(10, 51, NULL)]));
        let taken = c.take();
        assert_eq!(taken.len(), 2, "one update per sender");
        assert_eq!(taken[0].0, 1);
        assert_eq!(
            ids(&taken[0].1),
            [(10, 51, NULL.into()), (11, 1, "{}".into())]
        );
        assert_eq!(ids(&taken[1].1), [(20, 1, "{}".into())]);
        assert!(c.take().is_empty());
    }

    #[test]
    fn removal_by_the_owner_and_the_claim_limit() {
        let mut p = Presence::default();
        p.apply(1, update(&[(10, 1, "{}")]));
        let removed = p.apply(1, update(&[(10, 1, NULL)]));
        assert_eq!(ids(&removed.changes), [(10, 1, NULL.into())]);
        assert!(p.is_empty());
        // Removing something unknown relays nothing.
        assert!(p
            .apply(1, update(&[(99, 1, NULL)]))
            .changes
            .clients
            .is_empty());

        let many: Vec<_> = (100..100 + MAX_IDS_PER_CONN as u64 + 2)
            .map(|id| (id, 1, "{}"))
            .collect();
        let applied = p.apply(2, update(&many));
        assert_eq!(applied.changes.clients.len(), MAX_IDS_PER_CONN);
        assert_eq!(applied.refused.len(), 2);

        let huge = format!(r#"{{"x":"{}"}}"#, "x".repeat(MAX_STATE_BYTES));
        let applied = p.apply(3, update(&[(300, 1, &huge)]));
        assert!(applied.changes.clients.is_empty());
        assert_eq!(applied.refused, [300]);
    }
}
