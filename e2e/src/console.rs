//! The browser's console log, as chromedriver keeps it (every session asks for it with
//! `goog:loggingPrefs`): what the page logged and what Chromium reported about it, from the
//! first byte of every page load on, such as a Content-Security-Policy violation, which a
//! listener installed by a script after the load cannot see.

use crate::browser::Browser;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde::Deserialize;

/// One entry of the browser's log.
#[derive(Debug, Clone, Deserialize)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, …
    pub level: String,
    /// Where Chromium says it comes from (`console-api`, `security`, `network`, …).
    #[serde(default)]
    pub source: Option<String>,
    pub message: String,
}

impl LogEntry {
    /// Chromium's report of a Content-Security-Policy violation ("Executing inline script
    /// violates the following Content Security Policy directive …"; older versions say
    /// "Refused to … because it violates …").
    pub fn is_csp_violation(&self) -> bool {
        self.message.contains("Content Security Policy")
    }
}

/// chromedriver's `POST /session/{id}/se/log` (`{"type": "browser"}`), which returns the
/// browser log's entries since the last call and empties it.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

impl Browser {
    /// The console log's entries since the last call (chromedriver hands each over once).
    pub async fn console_log(&self) -> Vec<LogEntry> {
        let value = self
            .client()
            .issue_cmd(BrowserLog)
            .await
            .unwrap_or_else(|e| panic!("{}: read the browser log: {e}", self.who));
        serde_json::from_value(value)
            .unwrap_or_else(|e| panic!("{}: unexpected browser log: {e}", self.who))
    }
}
