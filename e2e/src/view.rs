//! What a browser session reads off the page, in one script call each: [`Snapshot`] (the
//! chat: status, messages, presence, tabs), [`DocView`] (the shared document: the
//! editor's text and selection, the others' carets) and [`PresenceView`] (the presence
//! panel: the count, who is listed, a big room's search and "Show more").

use serde::{de::DeserializeOwned, Deserialize};

/// A view read off the page by one script; `error` says when it could not be read.
pub(crate) trait View: DeserializeOwned + Default {
    /// What it is, for messages ("snapshot", "document view").
    const WHAT: &'static str;
    fn failed(error: String) -> Self;
}

macro_rules! view {
    ($($ty:ident: $what:literal),*) => {$(
        impl View for $ty {
            const WHAT: &'static str = $what;
            fn failed(error: String) -> Self {
                $ty { error: Some(error), ..$ty::default() }
            }
        }
    )*};
}

view!(Snapshot: "snapshot", DocView: "document view", PresenceView: "presence view");

/// What the page shows, read in one script call.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Snapshot {
    /// `data-state` of `connection-status`.
    pub status: Option<String>,
    /// The composer is there: the page is in a room.
    pub in_room: bool,
    /// The join form is there.
    pub join_form: bool,
    pub messages: Vec<Message>,
    /// Text of each `presence-member`.
    pub members: Vec<String>,
    pub tabs: Vec<Tab>,
    /// Set when the page could not be read (e.g. while it loads).
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Message {
    pub text: String,
    pub seq: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Tab {
    pub room: Option<String>,
    pub active: Option<String>,
}

pub(crate) const SNAPSHOT_JS: &str = r#"
const q = (id) => Array.from(document.querySelectorAll(`[data-testid="${id}"]`));
const status = q("connection-status")[0];
return {
  status: status ? status.getAttribute("data-state") : null,
  in_room: q("composer").length > 0,
  join_form: q("join-button").length > 0,
  messages: q("message").map((e) => {
    const seq = e.getAttribute("data-seq");
    return { text: e.textContent, seq: seq === null || seq === "" ? null : Number(seq) };
  }),
  members: q("presence-member").map((e) => e.textContent),
  tabs: q("room-tab").map((e) => ({
    room: e.getAttribute("data-room"),
    active: e.getAttribute("data-active"),
  })),
};
"#;

/// The shared document as the page shows it, read in one script call.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DocView {
    /// The `doc-editor`'s value; `None` while there is no editor.
    pub text: Option<String>,
    /// The editor has the focus.
    pub focused: bool,
    /// The editor's selection (start, end), in UTF-16 units.
    pub selection: Option<(u32, u32)>,
    /// `data-name` of each `doc-caret`.
    pub carets: Vec<String>,
    /// Set when the page could not be read (e.g. while it loads).
    #[serde(default)]
    pub error: Option<String>,
}

pub(crate) const DOC_JS: &str = r#"
const editor = document.querySelector('[data-testid="doc-editor"]');
return {
  text: editor ? editor.value : null,
  focused: !!editor && document.activeElement === editor,
  selection: editor ? [editor.selectionStart, editor.selectionEnd] : null,
  carets: Array.from(document.querySelectorAll('[data-testid="doc-caret"]'))
    .map((e) => e.getAttribute("data-name") || ""),
};
"#;

/// The presence panel as the page shows it, read in one script call.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PresenceView {
    /// `data-count` of `presence-count`: how many are here.
    pub count: Option<u64>,
    /// The count as shown (`1,234`).
    pub count_text: Option<String>,
    /// The text of `presence-shown` ("Showing 20 of 61"), when only some are listed.
    pub shown: Option<String>,
    /// `data-member` of each `presence-member`, in page order.
    pub ids: Vec<String>,
    /// The name shown in each `presence-member`.
    pub names: Vec<String>,
    /// `presence-more` is there.
    pub more: bool,
    /// It says a page is on its way (`aria-busy`).
    pub loading: bool,
    /// `presence-search` is there.
    pub search: bool,
    /// The list is taller than its box: it scrolls.
    pub scrolls: bool,
    /// Set when the page could not be read (e.g. while it loads).
    #[serde(default)]
    pub error: Option<String>,
}

pub(crate) const PRESENCE_JS: &str = r#"
const q = (id) => Array.from(document.querySelectorAll(`[data-testid="${id}"]`));
const count = q("presence-count")[0];
const shown = q("presence-shown")[0];
const more = q("presence-more")[0];
const members = q("presence-member");
const list = members.length ? members[0].parentElement : null;
return {
  count: count ? Number(count.getAttribute("data-count")) : null,
  count_text: count ? count.textContent : null,
  shown: shown ? shown.textContent : null,
  ids: members.map((e) => e.getAttribute("data-member") || ""),
  names: members.map((e) => (e.querySelector(".name") || e).textContent),
  more: !!more,
  loading: !!more && more.getAttribute("aria-busy") === "true",
  search: q("presence-search").length > 0,
  scrolls: !!list && (list.scrollHeight > list.clientHeight + 1 || list.scrollWidth > list.clientWidth + 1),
};
"#;

impl PresenceView {
    /// How many `presence-member` entries there are.
    pub fn listed(&self) -> usize {
        self.ids.len()
    }

    /// No user id is listed twice.
    pub fn each_once(&self) -> bool {
        let unique: std::collections::HashSet<&String> = self.ids.iter().collect();
        unique.len() == self.ids.len()
    }
}

impl DocView {
    /// The editor's text, or "" when there is none.
    pub fn text(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    /// How many times `s` occurs in the text (without overlaps).
    pub fn count(&self, s: &str) -> usize {
        self.text().matches(s).count()
    }
}

impl Snapshot {
    pub fn is_live(&self) -> bool {
        self.status.as_deref() == Some("live")
    }

    /// The tokens of `universe` found in the messages, in page order, one entry per message
    /// element that contains one (so a duplicate shows up twice).
    pub fn tokens(&self, universe: &[String]) -> Vec<String> {
        self.messages
            .iter()
            .filter_map(|m| universe.iter().find(|t| m.text.contains(t.as_str())))
            .cloned()
            .collect()
    }

    /// The message holding `token` is there and confirmed (has its `seq`).
    pub fn confirmed(&self, token: &str) -> bool {
        self.messages
            .iter()
            .any(|m| m.text.contains(token) && m.seq.is_some())
    }

    /// The messages holding tokens of `universe`, as (token, seq) in page order.
    pub fn sequenced(&self, universe: &[String]) -> Vec<(String, Option<u64>)> {
        self.messages
            .iter()
            .filter_map(|m| {
                universe
                    .iter()
                    .find(|t| m.text.contains(t.as_str()))
                    .map(|t| (t.clone(), m.seq))
            })
            .collect()
    }

    /// Exactly the given tokens, each once, in this order, every one confirmed.
    pub fn shows_exactly(&self, expected: &[String]) -> bool {
        let seen = self.sequenced(expected);
        seen.len() == expected.len()
            && seen
                .iter()
                .zip(expected)
                .all(|((t, seq), e)| t == e && seq.is_some())
    }

    /// How many `presence-member` entries name `name`.
    pub fn members_named(&self, name: &str) -> usize {
        self.members.iter().filter(|m| m.contains(name)).count()
    }

    /// Presence lists exactly these names, each once.
    pub fn presence_is(&self, names: &[&str]) -> bool {
        self.members.len() == names.len() && names.iter().all(|n| self.members_named(n) == 1)
    }

    /// If the page has room tabs, the active one is `room`.
    pub fn active_tab_is(&self, room: &str) -> bool {
        self.tabs.is_empty()
            || self
                .tabs
                .iter()
                .any(|t| t.room.as_deref() == Some(room) && t.active.as_deref() == Some("true"))
    }
}
