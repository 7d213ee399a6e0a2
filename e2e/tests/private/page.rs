//! What `private.rs` reads off a page and does there: the private-room parts of the page
//! in one script call ([`Room`]), joining through a link or the form, waiting to be in or
//! refused, the owner's member menu, and a y-websocket connection that forces a change.

use serde::Deserialize;
use std::time::Duration;
use tandem_e2e::{
    browser::{Browser, Snapshot},
    wait,
};

/// What the private-room parts of a page show, read in one script call (see [`wait_room`]).
#[derive(Debug, Default, Deserialize)]
pub struct Room {
    pub path: String,
    pub search: String,
    pub notice: Option<String>,
    pub invite: Option<String>,
    pub copy: Option<String>,
    pub badge: Option<String>,
    pub composer_disabled: Option<bool>,
    pub locked: Option<String>,
    pub editor_readonly: Option<bool>,
    pub read_only_toggle: Option<bool>,
    pub tabs: Vec<RoomTab>,
    pub members: Vec<Person>,
    pub doc_people: Vec<String>,
    pub doc_status: Option<String>,
    pub mine: Vec<String>,
    /// Set when the page could not be read (shown in a timeout's "last seen").
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RoomTab {
    pub room: String,
    pub private: Option<String>,
    pub label: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Person {
    pub id: String,
    pub role: Option<String>,
    pub text: String,
}

const ROOM_JS: &str = r#"
const one = (id) => document.querySelector(`[data-testid="${id}"]`);
const all = (css) => Array.from(document.querySelectorAll(css));
const composer = one("composer"), editor = one("doc-editor"), toggle = one("read-only-toggle");
return {
  path: location.pathname,
  search: location.search,
  notice: one("notice") ? one("notice").textContent : null,
  invite: one("invite-link") ? one("invite-link").value : null,
  copy: one("copy-invite") ? one("copy-invite").getAttribute("data-state") : null,
  badge: one("read-only-badge") ? one("read-only-badge").textContent : null,
  composer_disabled: composer ? composer.disabled : null,
  locked: one("composer-locked") ? one("composer-locked").textContent : null,
  editor_readonly: editor ? editor.readOnly : null,
  read_only_toggle: toggle ? toggle.checked : null,
  tabs: all('[data-testid="room-tab"]').map((t) => ({
    room: t.getAttribute("data-room"),
    private: t.getAttribute("data-private"),
    label: t.textContent,
  })),
  members: all('[data-testid="presence-member"]').map((m) => ({
    id: m.getAttribute("data-member"),
    role: m.getAttribute("data-role"),
    text: m.textContent,
  })),
  doc_people: all('[data-testid="doc-person"]').map((p) => p.getAttribute("data-name") || ""),
  doc_status: one("doc-status") ? one("doc-status").getAttribute("data-state") : null,
  mine: all('[data-testid="message"][data-mine="true"]').map((m) => m.textContent),
};
"#;

impl Room {
    pub fn tab(&self, room: &str) -> Option<&RoomTab> {
        self.tabs.iter().find(|t| t.room == room)
    }

    pub fn member(&self, name: &str) -> Option<&Person> {
        self.members.iter().find(|m| m.text.contains(name))
    }

    /// Our own entry in presence.
    pub fn me(&self) -> Option<&Person> {
        self.members.iter().find(|m| m.text.contains("(you)"))
    }

    pub fn notice_has(&self, text: &str) -> bool {
        self.notice.as_deref().is_some_and(|n| n.contains(text))
    }
}

pub async fn room(b: &Browser) -> Room {
    let v = b.eval(ROOM_JS, vec![]).await;
    serde_json::from_value(v).unwrap_or_else(|e| Room {
        error: Some(e.to_string()),
        ..Room::default()
    })
}

pub async fn wait_room(
    b: &Browser,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Room) -> bool,
) -> Room {
    let what = format!("{}: {what}", b.who);
    wait::until(&what, timeout, || room(b), |r| r.error.is_none() && done(r)).await
}

/// Open `url` and, if the join form asks, give `name` and press Join.
pub async fn open_as(b: &Browser, url: &str, name: &str) {
    b.goto(url).await;
    let page = b
        .wait_for("the room or the join form", |s| s.in_room || s.join_form)
        .await;
    if !page.in_room && page.join_form {
        b.fill("name-input", name).await;
        b.click("join-button").await;
    }
}

/// In `room`, live, with `names` present.
pub async fn in_room(b: &Browser, room: &str, names: &[&str]) -> Snapshot {
    b.wait_for(&format!("live in {room} with {names:?}"), |s| {
        s.in_room && s.is_live() && s.active_tab_is(room) && s.presence_is(names)
    })
    .await
}

/// Refused: the room's tab closed with a notice, no message and no document shown.
pub async fn refused(b: &Browser, room_id: &str) -> Room {
    let r = wait_room(b, "refused, with a notice", wait::TIMEOUT, |r| {
        r.tab(room_id).is_none() && r.notice_has("may not enter")
    })
    .await;
    let s = b.snapshot().await;
    assert!(s.messages.is_empty(), "{}: no message shown: {s:?}", b.who);
    assert!(!s.in_room, "{}: not in the room: {s:?}", b.who);
    assert!(b.doc().await.text.is_none(), "{}: no document shown", b.who);
    r
}

/// Open `who`'s menu in Alice's presence list and pick `action`.
pub async fn moderate(alice: &Browser, who: &str, action: &str) {
    let entry = format!("[data-testid=\"presence-member\"][data-member=\"{who}\"]");
    alice
        .click_css(&format!("{entry} [data-testid=\"member-menu\"]"))
        .await;
    alice
        .click_css(&format!("{entry} [data-testid=\"{action}\"]"))
        .await;
}

/// From Carol's page, a y-websocket connection of her own (her token) that sends an update
/// inserting `marker`, built by hand in the Yjs v1 format; it records how it was closed in
/// `window.__forced`.
pub const FORCE_JS: &str = r#"
const [room, marker] = arguments;
const token = localStorage.getItem("tandem.token") || "";
const url = location.origin.replace(/^http/, "ws") + "/yjs/" + room + "?token=" + encodeURIComponent(token);
const varuint = (n) => { const out = []; while (n > 127) { out.push(0x80 | (n & 127)); n = Math.floor(n / 128); } out.push(n); return out; };
const string = (s) => { const b = Array.from(new TextEncoder().encode(s)); return [...varuint(b.length), ...b]; };
const client = 100000 + Math.floor(Math.random() * 100000000);
// One client, one struct at clock 0: an Item with a string, no origins, parent the root type
// "content" (info 4 = ContentString); then an empty delete set.
const update = [...varuint(1), ...varuint(1), ...varuint(client), ...varuint(0), 4, ...varuint(1), ...string("content"), ...string(marker), ...varuint(0)];
const frame = new Uint8Array([0, 2, ...varuint(update.length), ...update]);
window.__forced = { state: "connecting" };
const ws = new WebSocket(url);
ws.binaryType = "arraybuffer";
ws.onopen = () => { ws.send(frame); window.__forced = { state: "sent" }; };
ws.onclose = (e) => { window.__forced = { state: "closed", code: e.code, reason: e.reason }; };
return true;
"#;
