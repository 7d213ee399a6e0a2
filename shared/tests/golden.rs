//! Golden tests: pin the JSON of every wire variant, both directions.

use serde::{de::DeserializeOwned, Serialize};
use tandem_shared::{ChatMessage, ClientMsg, ErrorCode, Member, ServerMsg};

/// `value` serialises to exactly `json`, and `json` parses back to `value`.
fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(json: &str, value: T) {
    assert_eq!(serde_json::to_string(&value).unwrap(), json);
    assert_eq!(serde_json::from_str::<T>(json).unwrap(), value);
}

fn ada() -> Member {
    Member {
        id: "u1".into(),
        name: "Ada".into(),
        role: None,
    }
}

fn msg() -> ChatMessage {
    ChatMessage {
        room: "lobby".into(),
        seq: 7,
        sender: ada(),
        text: "hi".into(),
        ts: 1700000000000,
        client_id: Some("c1".into()),
    }
}

#[test]
fn client_messages() {
    check(
        r#"{"type":"hello","protocol_version":1,"token":"t.k.n"}"#,
        ClientMsg::Hello {
            protocol_version: 1,
            token: Some("t.k.n".into()),
            jwt: None,
        },
    );
    check(
        r#"{"type":"hello","protocol_version":1}"#,
        ClientMsg::Hello {
            protocol_version: 1,
            token: None,
            jwt: None,
        },
    );
    // A public user id proves nothing: an old client's `user_id` is ignored.
    assert_eq!(
        serde_json::from_str::<ClientMsg>(
            r#"{"type":"hello","protocol_version":1,"user_id":"u1"}"#
        )
        .unwrap(),
        ClientMsg::Hello {
            protocol_version: 1,
            token: None,
            jwt: None,
        }
    );
    check(
        r#"{"type":"join","room":"lobby","name":"Ada"}"#,
        ClientMsg::Join {
            room: "lobby".into(),
            name: "Ada".into(),
            since: None,
            invite: None,
        },
    );
    check(
        r#"{"type":"join","room":"lobby","name":"Ada","since":41}"#,
        ClientMsg::Join {
            room: "lobby".into(),
            name: "Ada".into(),
            since: Some(41),
            invite: None,
        },
    );
    check(
        r#"{"type":"chat","room":"lobby","text":"hi","client_id":"c1"}"#,
        ClientMsg::Chat {
            room: "lobby".into(),
            text: "hi".into(),
            client_id: Some("c1".into()),
        },
    );
    check(
        r#"{"type":"chat","room":"lobby","text":"hi"}"#,
        ClientMsg::Chat {
            room: "lobby".into(),
            text: "hi".into(),
            client_id: None,
        },
    );
    check(
        r#"{"type":"leave","room":"lobby"}"#,
        ClientMsg::Leave {
            room: "lobby".into(),
        },
    );
    check(
        r#"{"type":"typing","room":"lobby"}"#,
        ClientMsg::Typing {
            room: "lobby".into(),
        },
    );
    check(
        r#"{"type":"history","room":"lobby","before":41,"limit":100}"#,
        ClientMsg::History {
            room: "lobby".into(),
            before: Some(41),
            limit: Some(100),
        },
    );
    check(
        r#"{"type":"history","room":"lobby"}"#,
        ClientMsg::History {
            room: "lobby".into(),
            before: None,
            limit: None,
        },
    );
    check(
        r#"{"type":"ping","nonce":3}"#,
        ClientMsg::Ping { nonce: Some(3) },
    );
    check(
        r#"{"type":"members","room":"lobby","after":"u7","limit":50}"#,
        ClientMsg::Members {
            room: "lobby".into(),
            after: Some("u7".into()),
            limit: Some(50),
        },
    );
    check(r#"{"type":"ping"}"#, ClientMsg::Ping { nonce: None });
}

#[test]
fn server_messages() {
    // Wire minimum: welcome {protocol_version, user_id, token, heartbeat_ms}.
    check(
        r#"{"type":"welcome","protocol_version":1,"user_id":"u1","token":"t.k.n","heartbeat_ms":5000}"#,
        ServerMsg::Welcome {
            protocol_version: 1,
            user_id: "u1".into(),
            token: "t.k.n".into(),
            heartbeat_ms: 5000,
            nodes: Vec::new(),
        },
    );
    // A cluster's node adds where else to connect.
    check(
        r#"{"type":"welcome","protocol_version":1,"user_id":"u1","token":"t","heartbeat_ms":5000,"nodes":["ws://n1:8080","wss://n2.example"]}"#,
        ServerMsg::Welcome {
            protocol_version: 1,
            user_id: "u1".into(),
            token: "t".into(),
            heartbeat_ms: 5000,
            nodes: vec!["ws://n1:8080".into(), "wss://n2.example".into()],
        },
    );
    check(
        r#"{"type":"hello","protocol_version":1,"user_id":"u1","token":"t.k.n"}"#,
        ServerMsg::Hello {
            protocol_version: 1,
            user_id: "u1".into(),
            token: Some("t.k.n".into()),
        },
    );
    check(
        r#"{"type":"joined","room":"lobby","members":[{"id":"u1","name":"Ada"}],"count":1,"history":[{"room":"lobby","seq":7,"sender":{"id":"u1","name":"Ada"},"text":"hi","ts":1700000000000,"client_id":"c1"}],"last_seq":7}"#,
        ServerMsg::Joined {
            room: "lobby".into(),
            members: vec![ada()],
            count: 1,
            history: vec![msg()],
            last_seq: 7,
            gap: false,
            title: None,
            role: None,
            read_only: false,
            invite: None,
        },
    );
    check(
        r#"{"type":"joined","room":"lobby","members":[],"count":1,"history":[],"last_seq":9,"gap":true}"#,
        ServerMsg::Joined {
            room: "lobby".into(),
            members: vec![],
            count: 1,
            history: vec![],
            last_seq: 9,
            gap: true,
            title: None,
            role: None,
            read_only: false,
            invite: None,
        },
    );
    check(
        r#"{"type":"chat","room":"lobby","seq":7,"sender":{"id":"u1","name":"Ada"},"text":"hi","ts":1700000000000,"client_id":"c1"}"#,
        ServerMsg::Chat(msg()),
    );
    check(
        r#"{"type":"chat","room":"lobby","seq":7,"sender":{"id":"u1","name":"Ada"},"text":"hi","ts":1700000000000,"client_id":null}"#,
        ServerMsg::Chat(ChatMessage {
            client_id: None,
            ..msg()
        }),
    );
    // Wire minimum: presence {room, joins: [members], leaves: [user ids], count}.
    check(
        r#"{"type":"presence","room":"lobby","joins":[{"id":"u1","name":"Ada"}],"leaves":["u2"],"count":41}"#,
        ServerMsg::Presence {
            room: "lobby".into(),
            joins: vec![ada()],
            leaves: vec!["u2".into()],
            count: 41,
            full: false,
        },
    );
    check(
        r#"{"type":"presence","room":"lobby","joins":[],"leaves":[],"count":1,"full":true}"#,
        ServerMsg::Presence {
            room: "lobby".into(),
            joins: vec![],
            leaves: vec![],
            count: 1,
            full: true,
        },
    );
    check(
        r#"{"type":"members","room":"lobby","members":[{"id":"u1","name":"Ada"}],"next":"u1"}"#,
        ServerMsg::Members {
            room: "lobby".into(),
            members: vec![ada()],
            next: Some("u1".into()),
        },
    );
    check(
        r#"{"type":"left","room":"lobby"}"#,
        ServerMsg::Left {
            room: "lobby".into(),
        },
    );
    check(
        r#"{"type":"typing","room":"lobby","members":[{"id":"u1","name":"Ada"}]}"#,
        ServerMsg::Typing {
            room: "lobby".into(),
            members: vec![ada()],
        },
    );
    check(
        r#"{"type":"pong","nonce":3}"#,
        ServerMsg::Pong { nonce: Some(3) },
    );
    check(
        r#"{"type":"history","room":"lobby","messages":[{"room":"lobby","seq":7,"sender":{"id":"u1","name":"Ada"},"text":"hi","ts":1700000000000,"client_id":"c1"}],"has_more":true}"#,
        ServerMsg::History {
            room: "lobby".into(),
            messages: vec![msg()],
            has_more: true,
        },
    );
    check(
        r#"{"type":"history","room":"lobby","messages":[],"has_more":false}"#,
        ServerMsg::History {
            room: "lobby".into(),
            messages: vec![],
            has_more: false,
        },
    );
    check(
        r#"{"type":"error","code":"not_joined","message":"join the room first","room":"lobby"}"#,
        ServerMsg::Error {
            code: ErrorCode::NotJoined,
            message: "join the room first".into(),
            room: Some("lobby".into()),
            client_id: None,
        },
    );
}

#[test]
fn error_codes() {
    use ErrorCode::*;
    let all = [
        (BadJson, "bad_json"),
        (UnknownType, "unknown_type"),
        (InvalidMessage, "invalid_message"),
        (InvalidRoom, "invalid_room"),
        (InvalidName, "invalid_name"),
        (NameTooLong, "name_too_long"),
        (InvalidText, "invalid_text"),
        (TextTooLong, "text_too_long"),
        (NotJoined, "not_joined"),
        (RateLimited, "rate_limited"),
        (ProtocolMismatch, "protocol_mismatch"),
        (HelloTooLate, "hello_too_late"),
        (BadToken, "bad_token"),
        (ClientIdReused, "client_id_reused"),
        (Forbidden, "forbidden"),
        (BadJwt, "bad_jwt"),
        (Unavailable, "unavailable"),
        (TooManyRooms, "too_many_rooms"),
    ];
    for (code, s) in all {
        check(&format!("\"{s}\""), code);
    }
}
