//! The admin view's model: the admin API's answers (`GET /api/rooms`, `GET /api/connections`)
//! as the view shows them, and the wording of figures and refusals.

use serde::Deserialize;

/// A live room's figures (`RoomStats` in the API's OpenAPI document).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoomRow {
    pub room: String,
    pub members: u64,
    pub connections: u64,
    pub last_seq: u64,
    pub messages_last_minute: u64,
    pub read_only: bool,
    pub private: bool,
}

#[derive(Debug, Deserialize)]
pub struct Rooms {
    pub rooms: Vec<RoomRow>,
}

/// A live connection (`Connection` in the OpenAPI document).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConnRow {
    pub id: u64,
    pub endpoint: String,
    pub peer: String,
    pub since_ms: u64,
    pub user: String,
    pub rooms: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Connections {
    pub connections: Vec<ConnRow>,
}

/// An API refusal (`{code, message}`).
#[derive(Debug, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

/// What the view says about a failed request: the API's message, or the status alone.
pub fn refusal_text(status: u16, body: &str) -> String {
    match serde_json::from_str::<Refusal>(body) {
        Ok(r) if r.code == "unauthorized" => {
            format!("That key is not accepted here: {}", r.message)
        }
        Ok(r) => r.message,
        Err(_) => format!("The server answered {status}"),
    }
}

/// How long ago `since_ms` was, in the largest whole unit: `42 s`, `3 min`, `2 h`, `5 d`.
pub fn age(now_ms: u64, since_ms: u64) -> String {
    let s = now_ms.saturating_sub(since_ms) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86400),
    }
}

/// A short, readable user id: the first 8 characters (ids are long and random).
pub fn short_user(user: &str) -> &str {
    match user.char_indices().nth(8) {
        Some((i, _)) => &user[..i],
        None => user,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_apis_answers() {
        let rooms: Rooms = serde_json::from_str(
            r#"{"rooms":[{"room":"ops","members":2,"connections":3,"last_seq":9,
                "messages_last_minute":4,"read_only":false,"private":false}]}"#,
        )
        .unwrap();
        assert_eq!(rooms.rooms[0].messages_last_minute, 4);
        let conns: Connections = serde_json::from_str(
            r#"{"connections":[{"id":7,"endpoint":"ws","peer":"127.0.0.1:5","since_ms":1,
                "user":"u","rooms":["ops"]}]}"#,
        )
        .unwrap();
        assert_eq!(conns.connections[0].rooms, ["ops"]);
    }

    #[test]
    fn words_ages_and_refusals() {
        assert_eq!(age(61_000, 1_000), "1 min");
        assert_eq!(age(5_000, 1_000), "4 s");
        assert_eq!(age(1_000, 5_000), "0 s");
        assert_eq!(age(3 * 86_400_000, 0), "3 d");
        let body = r#"{"code":"unauthorized","message":"this API key is not valid here"}"#;
        assert!(refusal_text(401, body).starts_with("That key is not accepted"));
        assert_eq!(refusal_text(502, "<html>"), "The server answered 502");
        assert_eq!(short_user("0123456789abc"), "01234567");
        assert_eq!(short_user("bot"), "bot");
    }
}
