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
    }
}
