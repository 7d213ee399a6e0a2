//! The page's state: the connection as shown, every joined room (one tab each) and what the
//! person sees of it. Changed only by [`super::apply`]. The lists the page draws are behind
//! `Rc`s, so a component's props compare in O(1) when they did not change, and a change
//! copies only pointers.

use std::rc::Rc;
use tandem_shared::{ChatMessage, ClientMsg, Member, Role};

/// The connection indicator; [`Conn::as_str`] is the `data-state` the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// Not connected yet since the page loaded.
    Connecting,
    Live,
    /// Lost; retrying (see [`State::retry_at`]).
    Reconnecting,
    /// The browser is offline, or the client must be reloaded.
    Offline,
}

impl Conn {
    pub fn as_str(self) -> &'static str {
        match self {
            Conn::Connecting => "connecting",
            Conn::Live => "live",
            Conn::Reconnecting => "reconnecting",
            Conn::Offline => "offline",
        }
    }
}

/// A message this client sent that the server has not echoed back yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub client_id: String,
    pub text: String,
    /// When it was written (ms since the epoch): restored messages keep their order.
    pub at: u64,
    /// Why the server refused it, once it has.
    pub failed: Option<String>,
}

/// Someone (else) typing in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typist {
    pub member: Member,
    /// Page time (ms) after which the indicator goes away.
    pub until: u64,
}

/// A room's confirmed messages, ordered by `seq` without duplicates ([`super::timeline`]).
pub type Messages = Rc<Vec<Rc<ChatMessage>>>;

/// One joined room: a tab.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Room {
    pub name: String,
    /// The server answered our `join` on the current connection.
    pub joined: bool,
    /// The server answered a `join` at least once (later replies are catch-ups).
    pub ever_joined: bool,
    pub messages: Messages,
    /// Sent (or queued) by this tab, not yet confirmed; shown after `messages`.
    pub pending: Rc<Vec<Pending>>,
    /// Who is listed as here: one entry per user, in the order they were learnt of. In a big
    /// room only part of everyone ([`super::roster`]); `count` is how many are here.
    pub members: Rc<Vec<Member>>,
    /// How many are here (us included), as the server last said: exact.
    pub count: u64,
    /// Where the next `members` page starts (`after`); `None`: from the first.
    pub members_after: Option<String>,
    /// A `members` request is on its way.
    pub loading_members: bool,
    pub typing: Vec<Typist>,
    /// Messages from others that arrived while another room was shown.
    pub unread: u32,
    /// The last catch-up could not reach back: the messages shown start later than those
    /// seen before (older ones are reached by scrolling back).
    pub gap: bool,
    /// A `history` request for older messages is on its way.
    pub loading_older: bool,
    /// The server said there is nothing older than the first message held.
    pub reached_start: bool,
    /// The unsent text in this room's message box.
    pub draft: String,
    /// When this tab last told the room it is typing (page time, ms).
    pub typing_sent_at: Option<u64>,
    /// A private room's title (its `name` is a server-chosen id); `None` for a public room.
    pub title: Option<String>,
    /// Our role in a private room, as the server last said.
    pub role: Option<Role>,
    /// Only the owner writes and edits right now.
    pub read_only: bool,
    /// The invite's secret, for the owner of a private room (shown as a link).
    pub invite: Option<String>,
    /// The invite an invite link brought: sent with the joins of this room until one is
    /// answered (then we are a member, or refused), then forgotten.
    pub join_invite: Option<String>,
}

impl Room {
    pub(super) fn new(name: String) -> Self {
        Room {
            name,
            ..Room::default()
        }
    }

    pub(super) fn join_msg(&self, name: &str) -> ClientMsg {
        ClientMsg::Join {
            room: self.name.clone(),
            name: name.to_owned(),
            since: super::timeline::last_seq(&self.messages),
            invite: self.join_invite.clone(),
        }
    }

    /// A private room (known from its title, our role, or the invite that opens it).
    pub fn is_private(&self) -> bool {
        self.title.is_some() || self.role.is_some() || self.join_invite.is_some()
    }

    /// How the room is named to people: a private room by its title, a public one `#name`.
    pub fn label(&self) -> String {
        match &self.title {
            Some(title) => title.clone(),
            None if self.is_private() => "Private room".to_owned(),
            None => format!("#{}", self.name),
        }
    }

    pub fn is_owner(&self) -> bool {
        self.role == Some(Role::Owner)
    }

    /// We may post messages: not as a viewer, and in a read-only room only as its owner.
    pub fn can_write(&self) -> bool {
        self.locked().is_none()
    }

    /// We may change the document (the same rule as writing).
    pub fn can_edit(&self) -> bool {
        self.can_write()
    }

    /// Why we may not write or edit here, for the person; `None` when we may.
    pub fn locked(&self) -> Option<&'static str> {
        if self.role == Some(Role::Viewer) {
            Some("You are a viewer here: you can read and follow the document, not write.")
        } else if self.read_only && !self.is_owner() {
            Some("This room is read-only: only its owner can write and edit.")
        } else {
            None
        }
    }

    /// The `seq` of the first message held.
    pub fn first_seq(&self) -> Option<u64> {
        self.messages.first().map(|m| m.seq)
    }

    /// Older messages than those held exist on the server (`seq`s start at 1, gapless).
    pub fn has_older(&self) -> bool {
        !self.reached_start && self.first_seq().is_some_and(|s| s > 1)
    }

    /// More people are here than listed: the next `members` page can list more.
    pub fn has_unlisted(&self) -> bool {
        self.count > self.members.len() as u64
    }

    /// The members typing at page time `now`, in the order they started.
    pub fn typing_now(&self, now: u64) -> impl Iterator<Item = &Member> {
        self.typing
            .iter()
            .filter(move |t| t.until > now)
            .map(|t| &t.member)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The socket's state; see [`State::status`] for what the page shows.
    pub conn: Conn,
    /// The browser's idea of the network (`navigator.onLine`).
    pub online: bool,
    /// Page time (ms) of the next reconnection attempt, while waiting for it.
    pub retry_at: Option<u64>,
    /// The display name used in every room.
    pub name: String,
    /// This browser's user id (proposed in `hello`, confirmed by the server).
    pub user_id: Option<String>,
    /// Joined rooms, in tab order.
    pub rooms: Vec<Room>,
    /// The room shown; `None` shows the join form.
    pub current: Option<String>,
    /// A problem to show the person (dismissable).
    pub notice: Option<String>,
    /// The client must be reloaded (it speaks another protocol version than the server).
    pub must_reload: bool,
    /// The title of a private room asked for and not created yet (asked again on every
    /// connection until the server answers).
    pub creating: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            conn: Conn::Connecting,
            online: true,
            retry_at: None,
            name: String::new(),
            user_id: None,
            rooms: Vec::new(),
            current: None,
            notice: None,
            must_reload: false,
            creating: None,
        }
    }
}

/// Shown when the server speaks another protocol version.
pub const RELOAD_NOTICE: &str = "Tandem has been updated. Reload the page to continue.";

impl State {
    /// A fresh state for the browser's user id (the one `hello` proposes).
    pub fn new(user_id: Option<String>) -> Self {
        State {
            user_id,
            ..State::default()
        }
    }

    /// What the connection indicator shows.
    pub fn status(&self) -> Conn {
        if self.must_reload || !self.online {
            Conn::Offline
        } else {
            self.conn
        }
    }

    pub fn room(&self, name: &str) -> Option<&Room> {
        self.rooms.iter().find(|r| r.name == name)
    }

    pub(super) fn room_mut(&mut self, name: &str) -> Option<&mut Room> {
        self.rooms.iter_mut().find(|r| r.name == name)
    }

    /// The room shown, if any.
    pub fn current_room(&self) -> Option<&Room> {
        self.room(self.current.as_deref()?)
    }

    pub(super) fn current_mut(&mut self) -> Option<&mut Room> {
        let name = self.current.clone()?;
        self.room_mut(&name)
    }

    pub(super) fn is_current(&self, room: &str) -> bool {
        self.current.as_deref() == Some(room)
    }

    /// Total unread messages in the rooms not shown (for the page title).
    pub fn unread_total(&self) -> u32 {
        self.rooms.iter().map(|r| r.unread).sum()
    }

    /// The page title: the room shown and the unread count.
    pub fn title(&self) -> String {
        let unread = self.unread_total();
        let room = self
            .current_room()
            .map_or(String::new(), |r| format!("{} · ", r.label()));
        if unread > 0 {
            format!("({unread}) {room}Tandem")
        } else {
            format!("{room}Tandem")
        }
    }

    /// Page time of the next reconnection attempt as whole seconds from `now`.
    pub fn retry_in_secs(&self, now: u64) -> Option<u64> {
        let at = self.retry_at?;
        Some(at.saturating_sub(now).div_ceil(1000))
    }

    pub(super) fn remove_room(&mut self, name: &str) {
        let Some(at) = self.rooms.iter().position(|r| r.name == name) else {
            return;
        };
        self.rooms.remove(at);
        if self.is_current(name) {
            // Show the neighbour: the tab that took its place, else the one before.
            let next = self.rooms.get(at).or_else(|| self.rooms.last());
            self.current = next.map(|r| r.name.clone());
            if let Some(r) = self.current_mut() {
                r.unread = 0;
            }
        }
    }
}
