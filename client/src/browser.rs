//! The browser APIs the page uses besides the socket: local storage, the address bar and
//! history, the title, the clock and randomness. Thin and forgiving: where an API is
//! missing or refuses (private mode storage, no window in a worker), they do nothing.

use tandem_shared::ids::RoomName;
use wasm_bindgen::JsValue;

/// Milliseconds since the Unix epoch (the page's clock for timers and typing).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// 48 random bits as 12 hex digits (ids, not secrets).
pub fn random_token() -> String {
    format!(
        "{:012x}",
        (js_sys::Math::random() * (1u64 << 48) as f64) as u64
    )
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?.filter(|v| !v.is_empty())
}

pub fn storage_set(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
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
