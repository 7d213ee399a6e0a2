//! Presence that scales: who came, went and typed since the last tick, sent as one
//! coalesced `presence` (and one `typing`) frame per room per tick instead of a frame per
//! event — a thousand joins in a second cost each member ten frames, not a thousand. Lists
//! are bounded ([`LIST_MAX`] by default): `count` is always exact, and `members` pages the
//! rest.

use super::{Output, Room};
use std::collections::{BTreeMap, BTreeSet};
use tandem_shared::{Member, ServerMsg};

/// Members listed at most in a `joined` reply, a presence frame or a `members` page.
pub(crate) const LIST_MAX: usize = 100;
/// Typists named at most in one `typing` frame.
pub(crate) const TYPING_MAX: usize = 10;

/// What happened since the last tick.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// New members (or new names), by user id.
    joins: BTreeMap<String, Member>,
    /// Users who left (applied before `joins`: a user who left and came back is here).
    leaves: BTreeSet<String>,
    typing: BTreeMap<String, Member>,
    /// The members the last presence frame left every client knowing about: the first
    /// `list_max` by user id. Joins further down do not go out by name, only in `count`
    /// (`members` pages them); a member who moves up into the window does.
    shown: BTreeSet<String>,
}

impl Pending {
    pub(crate) fn joined(&mut self, member: Member) {
        self.joins.insert(member.id.clone(), member);
    }

    pub(crate) fn left(&mut self, user: String) {
        self.joins.remove(&user);
        self.typing.remove(&user);
        self.leaves.insert(user);
    }

    pub(crate) fn typing(&mut self, member: Member) {
        self.typing.insert(member.id.clone(), member);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.joins.is_empty() && self.leaves.is_empty() && self.typing.is_empty()
    }

    fn came_or_went(&self) -> bool {
        !self.joins.is_empty() || !self.leaves.is_empty()
    }
}

impl Room {
    /// Members listed at most (the bound `joined`, presence and pages use).
    pub(crate) fn with_list_max(mut self, list_max: usize) -> Room {
        self.list_max = list_max.max(1);
        self
    }

    /// The members a `joined` reply lists: the first [`Room::list_max`] by user id, and
    /// whoever is typing now.
    pub(super) fn listed(&self) -> Vec<Member> {
        let mut list: Vec<Member> = self
            .members
            .keys()
            .take(self.list_max)
            .map(|id| self.member(id))
            .collect();
        for id in self.pending.typing.keys() {
            if self.members.contains_key(id) && !list.iter().any(|m| &m.id == id) {
                list.push(self.member(id));
            }
        }
        list
    }

    /// A page of members by user id, after `after`; and the id the next page starts after.
    pub(crate) fn page(&self, after: Option<&str>, limit: usize) -> ServerMsg {
        let limit = limit.clamp(1, self.list_max);
        let from = match after {
            Some(after) => self
                .members
                .range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
            None => self.members.range::<str, _>(..),
        };
        let members: Vec<Member> = from
            .take(limit + 1)
            .map(|(id, _)| self.member(id))
            .collect();
        let next = (members.len() > limit).then(|| members[limit - 1].id.clone());
        ServerMsg::Members {
            room: self.room(),
            members: members.into_iter().take(limit).collect(),
            next,
        }
    }

    /// Something is waiting for the next tick.
    pub(crate) fn presence_pending(&self) -> bool {
        !self.pending.is_empty() || self.cluster.as_ref().is_some_and(|c| c.changed())
    }

    /// The tick: one `presence` frame (if anyone came or went) and one `typing` frame (if
    /// anyone typed), both droppable. The frame names the joins inside the listed window
    /// (and whoever moved up into it), every leave — or, past `list_max` leaves, a full
    /// snapshot instead — and the exact count.
    pub(crate) fn flush_presence(&mut self, out: &mut Vec<Output>) {
        if self.pending.came_or_went() {
            let window: BTreeSet<String> =
                self.members.keys().take(self.list_max).cloned().collect();
            let pending = &self.pending;
            let frame = if pending.leaves.len() > self.list_max {
                self.presence_snapshot()
            } else {
                ServerMsg::Presence {
                    room: self.room(),
                    joins: window
                        .iter()
                        .filter(|id| {
                            pending.joins.contains_key(*id) || !pending.shown.contains(*id)
                        })
                        .map(|id| self.member(id))
                        .collect(),
                    leaves: pending.leaves.iter().cloned().collect(),
                    count: self.members.len() as u64,
                    full: false,
                }
            };
            out.push(Output::Coalesced(frame));
            self.pending.joins.clear();
            self.pending.leaves.clear();
            self.pending.shown = window;
        }
        let typing = std::mem::take(&mut self.pending.typing);
        let members = typing
            .into_keys()
            .filter(|id| self.members.contains_key(id))
            .take(TYPING_MAX)
            .map(|id| self.member(&id))
            .collect::<Vec<_>>();
        if !members.is_empty() {
            out.push(Output::Coalesced(ServerMsg::Typing {
                room: self.room(),
                members,
            }));
        }
    }

    /// A full presence frame (the listed members and the count) for a connection whose
    /// outbox had to drop presence frames.
    pub(crate) fn presence_snapshot(&self) -> ServerMsg {
        ServerMsg::Presence {
            room: self.room(),
            joins: self.listed(),
            leaves: Vec::new(),
            count: self.members.len() as u64,
            full: true,
        }
    }
}
