//! What the page keeps in the browser's storage so that nothing is lost on a reload, a tab
//! closed and reopened, or a browser restart while offline: the keys and their formats, as
//! pure functions (the page reads and writes them through `crate::browser`).
//!
//! - `tandem.token`: the secret that proves who this browser is (the server issues it);
//!   `tandem.user_id` the public id it proves, `tandem.name` the display name.
//! - `tandem.rooms`: the open tabs, a JSON array of room names; a private room's entry is
//!   `{"room":…,"title":…}`, so its tab has its title at once after a reload.
//! - `tandem.pending.<room>.<client_id>`: one unconfirmed message, `{"text":…,"at":…}`. One
//!   key per message, so tabs of the same browser never overwrite each other's; a message
//!   picked up by two tabs is sent under the same `client_id` and stored once (the server
//!   dedups per user, and the tabs of a browser are one user).
//! - `tandem.doc.<room>`: the room's document while it holds edits the server may lack (see
//!   `super::doc::Replica::unsynced`), base64.

use super::state::{Pending, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tandem_shared::ids::RoomName;

pub const NAME_KEY: &str = "tandem.name";
pub const USER_ID_KEY: &str = "tandem.user_id";
pub const TOKEN_KEY: &str = "tandem.token";
pub const ROOMS_KEY: &str = "tandem.rooms";
const PENDING: &str = "tandem.pending.";
const DOC: &str = "tandem.doc.";

#[derive(Serialize, Deserialize)]
struct Entry {
    text: String,
    at: u64,
}

/// The prefix of every pending message key of `room`.
pub fn pending_prefix(room: &str) -> String {
    format!("{PENDING}{room}.")
}

/// The key of `room`'s stored document.
pub fn doc_key(room: &str) -> String {
    format!("{DOC}{room}")
}

/// Every unconfirmed message the state holds, as storage wants them: key → value. (Refused
/// ones are not kept: sending them again would be refused again.)
pub fn pending_entries(state: &State) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for room in &state.rooms {
        for p in room.pending.iter().filter(|p| p.failed.is_none()) {
            let entry = Entry {
                text: p.text.clone(),
                at: p.at,
            };
            // unwrap: a string and an integer always serialize.
            let value = serde_json::to_string(&entry).expect("entries serialize");
            out.insert(
                format!("{}{}", pending_prefix(&room.name), p.client_id),
                value,
            );
        }
    }
    out
}

/// The stored messages of a room from its `(key, value)` pairs (keys under
/// [`pending_prefix`]); unreadable entries are skipped. Oldest first.
pub fn restore_pending(
    room: &str,
    stored: impl IntoIterator<Item = (String, String)>,
) -> Vec<Pending> {
    let prefix = pending_prefix(room);
    let mut out: Vec<Pending> = stored
        .into_iter()
        .filter_map(|(key, value)| {
            let client_id = key.strip_prefix(&prefix)?;
            tandem_shared::ids::client_id(client_id).ok()?;
            let entry: Entry = serde_json::from_str(&value).ok()?;
            tandem_shared::ids::chat_text(&entry.text).ok()?;
            Some(Pending {
                client_id: client_id.to_owned(),
                text: entry.text,
                at: entry.at,
                failed: None,
            })
        })
        .collect();
    out.sort_by_key(|p| p.at);
    out
}

/// One open tab as stored: a public room's name, or a private room with its title.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Tab {
    Name(String),
    Titled { room: String, title: String },
}

/// The open tabs, for [`ROOMS_KEY`].
pub fn rooms_value(state: &State) -> String {
    let tabs: Vec<Tab> = state
        .rooms
        .iter()
        .map(|r| match &r.title {
            Some(title) => Tab::Titled {
                room: r.name.clone(),
                title: title.clone(),
            },
            None => Tab::Name(r.name.clone()),
        })
        .collect();
    // unwrap: strings always serialize.
    serde_json::to_string(&tabs).expect("tabs serialize")
}

/// The valid rooms in a stored [`ROOMS_KEY`] value, with the titles kept for them.
pub fn rooms_from(value: &str) -> Vec<(String, Option<String>)> {
    let Ok(tabs) = serde_json::from_str::<Vec<serde_json::Value>>(value) else {
        return Vec::new();
    };
    tabs.into_iter()
        .filter_map(|t| match serde_json::from_value(t).ok()? {
            Tab::Name(room) => Some((room, None)),
            Tab::Titled { room, title } => {
                let title = tandem_shared::ids::display_name(&title).ok();
                Some((room, title))
            }
        })
        .filter(|(r, _)| RoomName::new(r).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{apply, Action};

    #[test]
    fn pending_messages_round_trip_through_storage() {
        let mut s = State::new(Some("me".into()));
        for room in ["lobby", "side"] {
            apply(
                &mut s,
                Action::Join {
                    room: room.into(),
                    name: "Ann".into(),
                    restored: vec![],
                    invite: None,
                    title: None,
                },
            );
        }
        for (n, text) in [(2, "second"), (1, "first")] {
            apply(
                &mut s,
                Action::Send {
                    text: text.into(),
                    client_id: format!("c{n}"),
                    at: n,
                },
            );
        }
        let stored = pending_entries(&s);
        assert_eq!(stored.len(), 2);
        assert!(stored.contains_key("tandem.pending.side.c1"));
        let mut with_noise: Vec<(String, String)> = stored.into_iter().collect();
        with_noise.push((
            "tandem.pending.side.bad id".into(),
            r#"{"text":"x","at":0}"#.into(),
        ));
        with_noise.push(("tandem.pending.side.c3".into(), "not json".into()));
        with_noise.push((
            "tandem.pending.sidecar.c4".into(),
            r#"{"text":"x","at":0}"#.into(),
        ));
        let back = restore_pending("side", with_noise);
        let texts: Vec<&str> = back.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["first", "second"], "oldest first, noise skipped");
        assert_eq!(back[0].client_id, "c1");
    }

    #[test]
    fn rooms_round_trip() {
        let mut s = State::default();
        for room in ["a", "b.c"] {
            apply(
                &mut s,
                Action::Join {
                    room: room.into(),
                    name: "Ann".into(),
                    restored: vec![],
                    invite: None,
                    title: None,
                },
            );
        }
        let names = |v: &str| -> Vec<String> { rooms_from(v).into_iter().map(|t| t.0).collect() };
        assert_eq!(names(&rooms_value(&s)), ["a", "b.c"]);
        assert_eq!(names(r#"["ok", "not ok", 3]"#), ["ok"]);
        assert_eq!(names(r#"["ok", "not ok"]"#), ["ok"]);
        assert_eq!(names("garbage"), Vec::<String>::new());
        // A private room keeps its title.
        apply(
            &mut s,
            Action::Join {
                room: "p-x".into(),
                name: "Ann".into(),
                restored: vec![],
                invite: Some("secret".into()),
                title: Some("Plans".into()),
            },
        );
        let value = rooms_value(&s);
        assert!(!value.contains("secret"), "invites are not kept: {value}");
        assert_eq!(
            rooms_from(&value),
            [
                ("a".to_owned(), None),
                ("b.c".to_owned(), None),
                ("p-x".to_owned(), Some("Plans".to_owned()))
            ]
        );
        assert_eq!(
            rooms_from(r#"[{"room":"p-y","title":""}, {"room":"bad room","title":"T"}]"#),
            [("p-y".to_owned(), None)]
        );
    }
}
