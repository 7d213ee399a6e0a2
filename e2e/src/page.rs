//! Page-level actions of a [`Browser`] beyond chatting and editing: running a script,
//! clicking by selector, navigating (away, back, to a new tab), and typing without sending.

use crate::browser::Browser;
use fantoccini::Locator;
use serde_json::Value;

impl Browser {
    /// Run `js` (a function body; `arguments` are `args`) in the page and return its result.
    pub async fn eval(&self, js: &str, args: Vec<Value>) -> Value {
        self.client()
            .execute(js, args)
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{js}", self.who))
    }

    /// Click the first element matching the CSS selector `css`, as a person would (for
    /// one of several same `data-testid`s, e.g. the menu of one member).
    pub async fn click_css(&self, css: &str) {
        self.client()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{}: find {css}: {e}", self.who))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: click {css}: {e}", self.who));
    }

    /// Resize the browser's window (the page's layout follows its width).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client()
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("{}: resize to {width}x{height}: {e}", self.who));
    }

    /// Show the page as with a dark system theme: the style sheet's
    /// `prefers-color-scheme: dark` rules apply from now on (until a reload).
    pub async fn dark(&self) {
        let js = r#"for (const sheet of document.styleSheets) {
                      for (const rule of sheet.cssRules) {
                        if (rule.media && rule.media.mediaText.includes("prefers-color-scheme: dark")) {
                          rule.media.mediaText = "all";
                        }
                      }
                    }
                    document.documentElement.style.colorScheme = "dark";"#;
        self.eval(js, vec![]).await;
    }

    /// Open `url` in this tab.
    pub async fn goto(&self, url: &str) {
        self.client()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("{}: open {url}: {e}", self.who));
    }

    /// The browser's Back button.
    pub async fn back(&self) {
        self.client()
            .back()
            .await
            .unwrap_or_else(|e| panic!("{}: back: {e}", self.who));
    }

    /// Close this tab as a person would (the page gets `pagehide`), after opening a new
    /// blank one to carry on in (closing the last tab would end the browser).
    pub async fn close_tab_for_a_new_one(&self) {
        let client = self.client();
        let new = client
            .new_window(true)
            .await
            .unwrap_or_else(|e| panic!("{}: new tab: {e}", self.who));
        client
            .close_window()
            .await
            .unwrap_or_else(|e| panic!("{}: close the tab: {e}", self.who));
        client
            .switch_to_window(new.handle)
            .await
            .unwrap_or_else(|e| panic!("{}: switch to the new tab: {e}", self.who));
    }

    /// Type `keys` (WebDriver keys: `\u{E009}` is Control, `\u{E000}` releases modifiers)
    /// into the element with `data-testid` `id`.
    pub async fn type_into(&self, id: &str, keys: &str) {
        let css = format!("[data-testid=\"{id}\"]");
        self.client()
            .find(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("{}: find {id}: {e}", self.who))
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("{}: type into {id}: {e}", self.who));
    }

    /// Type `text` into the message box without sending it.
    pub async fn type_composer(&self, text: &str) {
        self.client()
            .find(Locator::Css("[data-testid=\"composer\"]"))
            .await
            .unwrap_or_else(|e| panic!("{}: find composer: {e}", self.who))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("{}: type into composer: {e}", self.who));
    }

    /// How many times the message list has rendered (`data-renders` on `message-list`).
    pub async fn list_renders(&self) -> u64 {
        let js = r#"const l = document.querySelector('[data-testid="message-list"]');
                    return l ? Number(l.getAttribute("data-renders")) : null;"#;
        self.eval(js, vec![])
            .await
            .as_u64()
            .unwrap_or_else(|| panic!("{}: no message-list with data-renders", self.who))
    }
}
