//! The root's storage: what this browser keeps so that nothing is lost on a reload (see
//! [`crate::model::stored`] for the keys and formats).

use super::App;
use crate::browser;
use crate::model::{stored, Action};

impl App {
    /// Open `room` as the person, with what this browser kept unsent for it (and the invite
    /// of an invite link, the title kept for a private room).
    pub(super) fn join(&mut self, room: String, invite: Option<String>, title: Option<String>) {
        let entries = browser::storage_entries(&stored::pending_prefix(&room));
        let restored = stored::restore_pending(&room, entries);
        let name = self.state.name.clone();
        self.dispatch(Action::Join {
            room,
            name,
            restored,
            invite,
            title,
        });
    }

    /// Keep storage in step: this tab's unsent messages, and the open tabs.
    pub(super) fn persist(&mut self) {
        let wanted = stored::pending_entries(&self.state);
        if wanted != self.stored_pending {
            for key in self.stored_pending.keys() {
                if !wanted.contains_key(key) {
                    browser::storage_remove(key);
                }
            }
            for (key, value) in &wanted {
                if self.stored_pending.get(key) != Some(value) && !browser::storage_set(key, value)
                {
                    browser::warn("the browser refused to keep an unsent message");
                }
            }
            self.stored_pending = wanted;
        }
        let rooms = stored::rooms_value(&self.state);
        if rooms != self.stored_rooms {
            browser::storage_set(stored::ROOMS_KEY, &rooms);
            self.stored_rooms = rooms;
        }
    }
}
