//! The browser APIs the page uses besides the socket: local storage, the address bar and
//! history, the title, the clock and randomness. Thin and forgiving: where an API is
//! missing or refuses (private mode storage, a full quota, no window in a worker), they do
//! nothing and say so where it matters.

use tandem_shared::ids::RoomName;
use wasm_bindgen::JsValue;

/// Milliseconds since the Unix epoch (the page's clock for timers and typing).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// 128 random bits from the browser's cryptographic generator, as 32 hex digits (for ids
/// nobody may guess, such as `client_id`s). Falls back to `Math.random` where `crypto` is
/// missing.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?.filter(|v| !v.is_empty())
}

/// Store `value` under `key`; false if the browser refused (no storage, quota full).
pub fn storage_set(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

pub fn storage_remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// Every stored `(key, value)` whose key starts with `prefix`.
pub fn storage_entries(prefix: &str) -> Vec<(String, String)> {
    let Some(s) = storage() else {
        return Vec::new();
    };
    let len = s.length().unwrap_or(0);
    (0..len)
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with(prefix))
        .filter_map(|k| s.get_item(&k).ok().flatten().map(|v| (k, v)))
        .collect()
}

/// Bytes kept under `key` (base64: storage holds strings).
pub fn storage_get_bytes(key: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = storage_get(key)?;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// Keep `bytes` under `key`; false if the browser refused.
pub fn storage_set_bytes(key: &str, bytes: &[u8]) -> bool {
    use base64::Engine;
    storage_set(
        key,
        &base64::engine::general_purpose::STANDARD.encode(bytes),
    )
}

/// Log a problem the person cannot act on (the console is where a developer looks).
pub fn warn(what: &str) {
    web_sys::console::warn_1(&format!("tandem: {what}").into());
}

/// The room named by the address bar (`/r/<room>`), if valid.
pub fn room_from_path() -> Option<String> {
    let path = web_sys::window()?.location().pathname().ok()?;
    room_in_path(&path)
}

/// The room in a path such as `/r/lobby` or `/r/lobby/`.
pub fn room_in_path(path: &str) -> Option<String> {
    let room = path.strip_prefix("/r/")?.trim_end_matches('/');
    RoomName::new(room).ok().map(|r| r.as_str().to_owned())
}

/// The `invite` of the address bar's query (`?invite=<secret>`), if any.
pub fn invite_from_query() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    invite_in_query(&search)
}

/// The `invite` parameter of a query string such as `?invite=abc` (decoded).
pub fn invite_in_query(search: &str) -> Option<String> {
    let query = search.strip_prefix('?').unwrap_or(search);
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("invite="))?;
    let decoded = percent_decode(value)?;
    (!decoded.is_empty() && decoded.len() <= 256 && !decoded.chars().any(char::is_control))
        .then_some(decoded)
}

/// `%XX` escapes decoded; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Take the query (an invite's secret) out of the address bar, keeping the path; no new
/// history entry.
pub fn drop_query() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    if location.search().ok().is_none_or(|s| s.is_empty()) {
        return;
    }
    let path = location.pathname().unwrap_or_else(|_| "/".to_owned());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&path));
    }
}

/// This page's origin (`http://host:port`), for links to share.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The path that shows `room` (`/r/<room>`; room names need no escaping), or `/`.
pub fn path_for(room: Option<&str>) -> String {
    match room {
        Some(r) => format!("/r/{r}"),
        None => "/".to_owned(),
    }
}

/// Put `room`'s path in the address bar: a new history entry with `push` (so back returns
/// to the previous room), else replacing the current one. Nothing if already there.
pub fn set_path(room: Option<&str>, push: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let url = path_for(room);
    if window.location().pathname().ok().as_deref() == Some(url.as_str()) {
        return;
    }
    if let Ok(history) = window.history() {
        let _ = if push {
            history.push_state_with_url(&JsValue::NULL, "", Some(&url))
        } else {
            history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
        };
    }
}

pub fn set_title(title: &str) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        if doc.title() != title {
            doc.set_title(title);
        }
    }
}

pub fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// `HH:MM` (prefixed by the date when not today) and the full local date-time.
pub fn format_time(ts: u64) -> (String, String) {
    let d = js_sys::Date::new_0();
    let today = d.to_date_string();
    d.set_time(ts as f64);
    let hm = format!("{:02}:{:02}", d.get_hours(), d.get_minutes());
    let short = if d.to_date_string() == today {
        hm
    } else {
        format!(
            "{}-{:02}-{:02} {hm}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date()
        )
    };
    (short, String::from(d.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_paths() {
        assert_eq!(room_in_path("/r/lobby").as_deref(), Some("lobby"));
        assert_eq!(room_in_path("/r/a-b.c/").as_deref(), Some("a-b.c"));
        assert_eq!(room_in_path("/r/"), None);
        assert_eq!(room_in_path("/r/bad%20name"), None);
        assert_eq!(room_in_path("/"), None);
        assert_eq!(path_for(Some("lobby")), "/r/lobby");
        assert_eq!(path_for(None), "/");
        assert_eq!(invite_in_query("?invite=abc12").as_deref(), Some("abc12"));
        assert_eq!(invite_in_query("?x=1&invite=ff").as_deref(), Some("ff"));
        assert_eq!(invite_in_query("?invite="), None);
        assert_eq!(invite_in_query(""), None);
        assert_eq!(invite_in_query("?invitee=1"), None);
        assert_eq!(invite_in_query("?invite=a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(invite_in_query("?invite=a%2"), None);
    }
}
