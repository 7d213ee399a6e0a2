//! One headless Chromium session, driven only through the page's stable `data-testid`
//! attributes:
//!
//! - home: `name-input`, `room-input`, `join-button`;
//! - room: `composer` (a textarea; Enter sends), `send-button`, `message` (one per chat
//!   message, its text inside, `data-seq` once confirmed), `presence-member`, `room-tab`
//!   (`data-room`, `data-active`);
//! - presence: `presence-count` (`data-count`: how many are here), and in a big room
//!   `presence-shown`, `presence-search` and `presence-more` (`tests/big_room.rs`);
//! - everywhere: `connection-status` with `data-state` = `connecting|live|reconnecting|offline`;
//! - the room's shared document: `doc-editor` (a textarea bound to the room's Y.Text
//!   "content"), and a `doc-caret` with `data-name` for each other person's caret;
//! - private rooms (`tests/private.rs` reads them): `private-title` and `create-private` in
//!   the join form, `invite-link`, `copy-invite`, `rotate-invite`, `read-only-toggle`,
//!   `read-only-badge`, `composer-locked`, and per member `member-menu` with `kick`, `ban`,
//!   `make-viewer` / `make-member`.

pub use crate::view::{DocView, Message, PresenceView, Snapshot, Tab};
use crate::view::{View, DOC_JS, PRESENCE_JS, SNAPSHOT_JS};
use crate::{driver::Chromedriver, wait};
use fantoccini::{elements::Element, key::Key, Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Chromium's flags: headless, and nothing in the background that could reach the network.
const CHROME_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--window-size=1100,800",
];

pub struct Browser {
    /// Who this is in the scenario (and in screenshot names).
    pub who: String,
    /// The WebDriver session; replaced when the browser is restarted. (A std `Mutex`, held
    /// only to clone or swap the handle, never across an await.)
    client: Mutex<Client>,
    /// Where chromedriver listens, to start the browser again.
    driver: String,
    /// The browser's own profile (`--user-data-dir`), so its localStorage is its own; kept
    /// across a restart.
    profile: tempfile::TempDir,
}

/// How a message is sent.
#[derive(Debug, Clone, Copy)]
pub enum Via {
    Enter,
    Button,
}

impl Browser {
    /// A new Chromium session with a profile of its own.
    pub async fn open(driver: &Chromedriver, who: &str) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix(&format!("tandem-e2e-{who}-"))
            .tempdir()
            .expect("profile directory");
        let client = session(&driver.url(), who, profile.path()).await;
        Browser {
            who: who.to_owned(),
            client: Mutex::new(client),
            driver: driver.url(),
            profile,
        }
    }

    /// The session's handle (cheap to clone).
    pub(crate) fn client(&self) -> Client {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Quit the browser and start it again on the same profile, as a person restarting it
    /// would: what the page kept in storage is still there. The new browser shows a blank
    /// page.
    pub async fn restart(&self) {
        let old = self.client();
        let _ = old.close().await;
        let new = session(&self.driver, &self.who, self.profile.path()).await;
        *self.client.lock().unwrap_or_else(PoisonError::into_inner) = new;
    }

    /// End the session (chromedriver closes the browser).
    pub async fn close(self) {
        let _ = self.client().close().await;
    }

    /// Run `js`, which returns a `V`. Never fails: an unreadable page yields a `V` with
    /// `error` set.
    async fn read<V: View>(&self, js: &str) -> V {
        match self.client().execute(js, vec![]).await {
            Ok(v) => serde_json::from_value(v)
                .unwrap_or_else(|e| V::failed(format!("unexpected {}: {e}", V::WHAT))),
            Err(e) => V::failed(e.to_string()),
        }
    }

    /// Read the page. Never fails: an unreadable page yields a snapshot with `error` set.
    pub async fn snapshot(&self) -> Snapshot {
        self.read(SNAPSHOT_JS).await
    }

    /// Poll the page until `done` holds (see [`wait::TIMEOUT`]).
    pub async fn wait_for(&self, what: &str, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
        self.wait_for_within(what, wait::TIMEOUT, done).await
    }

    /// [`Browser::wait_for`] with a deadline of its own (for what must happen promptly).
    pub async fn wait_for_within(
        &self,
        what: &str,
        timeout: std::time::Duration,
        done: impl Fn(&Snapshot) -> bool,
    ) -> Snapshot {
        let what = format!("{}: {what}", self.who);
        wait::until(&what, timeout, || self.snapshot(), done).await
    }

    async fn testid(&self, id: &str) -> Element {
        self.client()
            .find(Locator::Css(&format!("[data-testid=\"{id}\"]")))
            .await
            .unwrap_or_else(|e| panic!("{}: find {id}: {e}", self.who))
    }

    /// Open `{base}/r/{room}` and be in the room as `name`: through the join form if the page
    /// asks for it, directly if it remembers a name. Returns once the page is live in the room
    /// and lists `name` as present.
    pub async fn join_room(&self, base: &str, room: &str, name: &str) -> Snapshot {
        let url = format!("{base}/r/{room}");
        self.client()
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("{}: open {url}: {e}", self.who));
        let page = self
            .wait_for("the room or the join form", |s| s.in_room || s.join_form)
            .await;
        if !page.in_room {
            self.fill("name-input", name).await;
            self.fill("room-input", room).await;
            self.click("join-button").await;
        }
        self.wait_for(&format!("live in {room} as {name}"), |s| {
            s.in_room && s.is_live() && s.active_tab_is(room) && s.members_named(name) == 1
        })
        .await
    }

    /// Make the input `id` hold `value` (typing as a person would).
    pub async fn fill(&self, id: &str, value: &str) {
        let input = self.testid(id).await;
        let current = input.prop("value").await.ok().flatten().unwrap_or_default();
        if current != value {
            if !current.is_empty() {
                let _ = input.clear().await;
            }
            input
                .send_keys(value)
                .await
                .unwrap_or_else(|e| panic!("{}: type into {id}: {e}", self.who));
        }
    }

    /// Click the element with `data-testid` `id` (the first, if several).
    pub async fn click(&self, id: &str) {
        self.testid(id)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: click {id}: {e}", self.who));
    }

    /// Type `text` into the composer and send it; returns once the page shows it (pending or
    /// confirmed).
    pub async fn send(&self, text: &str, how: Via) {
        let composer = self.testid("composer").await;
        composer
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("{}: type into composer: {e}", self.who));
        match how {
            Via::Enter => composer
                .send_keys(&Key::Enter)
                .await
                .unwrap_or_else(|e| panic!("{}: press Enter: {e}", self.who)),
            Via::Button => self.click("send-button").await,
        }
        self.wait_for(&format!("{text:?} shown after sending"), |s| {
            s.messages.iter().any(|m| m.text.contains(text))
        })
        .await;
    }

    /// Read the shared document. Never fails: an unreadable page yields a view with `error`
    /// set.
    pub async fn doc(&self) -> DocView {
        self.read(DOC_JS).await
    }

    /// Poll the shared document until `done` holds, for at most `timeout`.
    pub async fn wait_doc(
        &self,
        what: &str,
        timeout: std::time::Duration,
        done: impl Fn(&DocView) -> bool,
    ) -> DocView {
        let what = format!("{}: {what}", self.who);
        wait::until(&what, timeout, || self.doc(), done).await
    }

    /// Read the presence panel. Never fails: an unreadable page yields a view with `error`
    /// set.
    pub async fn presence(&self) -> PresenceView {
        self.read(PRESENCE_JS).await
    }

    /// Poll the presence panel until `done` holds, for at most `timeout`.
    pub async fn wait_presence(
        &self,
        what: &str,
        timeout: std::time::Duration,
        done: impl Fn(&PresenceView) -> bool,
    ) -> PresenceView {
        let what = format!("{}: {what}", self.who);
        wait::until(&what, timeout, || self.presence(), done).await
    }

    /// Type `keys` into the document editor, as a person would (WebDriver key events). The
    /// first time the editor gets the focus and its caret goes to the end of the text; after
    /// that typing goes on at the caret.
    pub async fn type_doc(&self, keys: &str) {
        self.testid("doc-editor")
            .await
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("{}: type {keys:?} into doc-editor: {e}", self.who));
    }

    /// Put the document editor's caret at the start of the text with Ctrl+Home, as a person
    /// would; returns once the page says it is there.
    pub async fn doc_caret_to_start(&self) {
        self.type_doc(&(Key::Control + &Key::Home)).await;
        self.wait_doc("the editor's caret at the start", wait::TIMEOUT, |d| {
            d.focused && d.selection == Some((0, 0))
        })
        .await;
    }

    /// A `doc-caret` named `name` is on the page and displayed (WebDriver's "is displayed").
    pub async fn shows_caret_of(&self, name: &str) -> bool {
        let css = format!("[data-testid=\"doc-caret\"][data-name=\"{name}\"]");
        let Ok(carets) = self.client().find_all(Locator::Css(&css)).await else {
            return false;
        };
        for caret in carets {
            if caret.is_displayed().await.unwrap_or(false) {
                return true;
            }
        }
        false
    }

    /// Poll until [`Browser::shows_caret_of`] `name`.
    pub async fn wait_caret_of(&self, name: &str) {
        let what = format!("{}: {name}'s caret displayed", self.who);
        wait::until(
            &what,
            wait::TIMEOUT,
            || async { (self.shows_caret_of(name).await, self.doc().await) },
            |(shown, _)| *shown,
        )
        .await;
    }

    /// Reload the page (WebDriver's refresh).
    pub async fn reload(&self) {
        self.client()
            .refresh()
            .await
            .unwrap_or_else(|e| panic!("{}: reload: {e}", self.who));
    }

    /// Close the tab, as a person leaving would. (Navigating away is not the same: Chromium
    /// may keep the page, and its open socket, in the back/forward cache.)
    pub async fn close_tab(&self) {
        self.client()
            .close_window()
            .await
            .unwrap_or_else(|e| panic!("{}: close the tab: {e}", self.who));
    }

    /// Save a PNG screenshot as `{dir}/{name}-{who}.png`; returns its path.
    pub async fn screenshot(&self, dir: &Path, name: &str) -> Result<PathBuf, String> {
        let png = self
            .client()
            .screenshot()
            .await
            .map_err(|e| format!("{}: screenshot: {e}", self.who))?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("{name}-{}.png", self.who));
        std::fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }
}

/// A new WebDriver session: Chromium with its flags, on the profile in `profile`.
async fn session(driver: &str, who: &str, profile: &Path) -> Client {
    let mut args: Vec<String> = CHROME_ARGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut options = serde_json::json!({ "args": args });
    if Path::new("/usr/bin/chromium").is_file() {
        options["binary"] = "/usr/bin/chromium".into();
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert("goog:chromeOptions".into(), options);
    // Keep the browser's console (CSP violations among it) for `Browser::console_log`.
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({ "browser": "ALL" }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .unwrap_or_else(|e| panic!("{who}: new WebDriver session: {e}"))
}
