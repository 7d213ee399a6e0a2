//! Who is in a room as the page knows it. The server says exactly how many are here
//! (`count`, in `joined` and every `presence` frame) but lists them only up to its bound (100
//! by default): a big room's list is the `joined` reply's, kept up to date by presence
//! frames (leaves, then joins) and grown by the `members` pages the person asks for. One
//! entry per user id, in the order they were learnt of: a newcomer and a fetched page come at
//! the end, a rename stays in place.
//!
//! Pages walk the server's list by user id: [`Room::members_after`] is where the next one
//! starts (`None`: from the first). After the last page it starts again from the first, so a
//! member a bounded presence frame left out is found on the next round. A page is the whole
//! truth about its range of ids: a listed member in that range who is not in it has left
//! (a leave a bounded frame left out).

use super::reduce::TYPING_SHOWN_MS;
use super::state::{Room, Typist};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use tandem_shared::Member;

/// A `joined` reply: its list replaces ours (`me`, who may not be among a big room's listed,
/// is added: one always sees oneself) and the pages start after its last member.
pub(super) fn joined(r: &mut Room, members: Vec<Member>, count: u64, me: Option<Member>) {
    r.loading_members = false;
    // An older server says no `count`: its list is everyone.
    r.count = if count == 0 {
        members.len() as u64
    } else {
        count
    };
    r.members_after = match members.last() {
        Some(last) if r.count > members.len() as u64 => Some(last.id.clone()),
        _ => None,
    };
    let mut list = Vec::with_capacity(members.len() + 1);
    upsert(&mut list, members);
    if let Some(me) = me.filter(|me| !list.iter().any(|m| m.id == me.id)) {
        list.push(me);
    }
    r.members = Rc::new(list);
}

/// A `presence` frame: `leaves` then `joins` (new members or new names), or with `full` the
/// list afresh (a resync: frames were lost).
pub(super) fn presence(
    r: &mut Room,
    joins: Vec<Member>,
    leaves: Vec<String>,
    count: u64,
    full: bool,
) {
    r.count = count;
    if full {
        let mut list = Vec::with_capacity(joins.len());
        upsert(&mut list, joins);
        r.members = Rc::new(list);
        // The pages fetched are gone with the old list: start again from the first. (A page
        // on its way is merged when it comes, but says nothing of a range any more.)
        r.members_after = None;
        r.loading_members = false;
        return;
    }
    if !leaves.is_empty() {
        let gone: HashSet<&str> = leaves.iter().map(String::as_str).collect();
        Rc::make_mut(&mut r.members).retain(|m| !gone.contains(m.id.as_str()));
        r.typing.retain(|t| !gone.contains(t.member.id.as_str()));
    }
    if !joins.is_empty() {
        upsert(Rc::make_mut(&mut r.members), joins);
    }
}

/// A `members` page: merged into the list by user id. The answer to our request (from
/// [`Room::members_after`]) also drops the listed members of its range it does not name, and
/// moves the cursor on.
pub(super) fn page(r: &mut Room, members: Vec<Member>, next: Option<String>) {
    let list = Rc::make_mut(&mut r.members);
    if r.loading_members {
        r.loading_members = false;
        let after = r.members_after.take();
        let named: HashSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let in_range = |id: &str| {
            after.as_deref().is_none_or(|a| id > a) && next.as_deref().is_none_or(|n| id <= n)
        };
        list.retain(|m| !in_range(&m.id) || named.contains(m.id.as_str()));
        r.members_after = next;
    }
    upsert(list, members);
}

/// A `typing` frame: each of `members` but us shows as typing for [`TYPING_SHOWN_MS`].
pub(super) fn typing(r: &mut Room, members: Vec<Member>, me: Option<&str>, now: u64) {
    let until = now + TYPING_SHOWN_MS;
    for member in members {
        if me == Some(member.id.as_str()) {
            continue;
        }
        match r.typing.iter_mut().find(|t| t.member.id == member.id) {
            Some(t) => {
                t.until = until;
                t.member.name = member.name;
            }
            None => r.typing.push(Typist { member, until }),
        }
    }
}

/// Put each of `incoming` in `list`: in place of the entry with its id, else at the end.
/// (A few are looked for by a scan; a batch, through an index of the list.)
fn upsert(list: &mut Vec<Member>, incoming: Vec<Member>) {
    if incoming.len() <= 4 {
        for member in incoming {
            match list.iter().position(|m| m.id == member.id) {
                Some(i) => list[i] = member,
                None => list.push(member),
            }
        }
        return;
    }
    let mut at: HashMap<String, usize> = list
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.clone(), i))
        .collect();
    for member in incoming {
        match at.get(&member.id) {
            Some(&i) => list[i] = member,
            None => {
                at.insert(member.id.clone(), list.len());
                list.push(member);
            }
        }
    }
}

/// The listed members whose name contains `query` (case-insensitive; all for a blank one).
/// (Compared in upper case: the page already carries those tables, for initials.)
pub fn matching<'a>(members: &'a [Member], query: &str) -> Vec<&'a Member> {
    let query = query.trim().to_uppercase();
    members
        .iter()
        .filter(|m| query.is_empty() || m.name.to_uppercase().contains(&query))
        .collect()
}

/// A count as people read it: `1,234`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}
