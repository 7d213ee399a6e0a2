//! Golden tests of the access messages: identity (`hello {token|jwt}`), private rooms and
//! their invites, roles and moderation. `create_room` → `room_created` and `join {invite}`
//! are wire minimums other tools depend on.

use serde::{de::DeserializeOwned, Serialize};
use tandem_shared::{ClientMsg, Member, Role, ServerMsg};

fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(json: &str, value: T) {
    assert_eq!(serde_json::to_string(&value).unwrap(), json);
    assert_eq!(serde_json::from_str::<T>(json).unwrap(), value);
}

#[test]
fn client_access_messages() {
    check(
        r#"{"type":"hello","protocol_version":1,"jwt":"a.b.c"}"#,
        ClientMsg::Hello {
            protocol_version: 1,
            token: None,
            jwt: Some("a.b.c".into()),
        },
    );
    check(
        r#"{"type":"create_room","private":true,"name":"Team"}"#,
        ClientMsg::CreateRoom {
            private: true,
            name: "Team".into(),
        },
    );
    check(
        r#"{"type":"join","room":"p-x","name":"Bo","invite":"s3cret"}"#,
        ClientMsg::Join {
            room: "p-x".into(),
            name: "Bo".into(),
            since: None,
            invite: Some("s3cret".into()),
        },
    );
    check(
        r#"{"type":"kick","room":"p-x","user":"u2","ban":true}"#,
        ClientMsg::Kick {
            room: "p-x".into(),
            user: "u2".into(),
            ban: true,
        },
    );
    assert_eq!(
        serde_json::from_str::<ClientMsg>(r#"{"type":"kick","room":"p-x","user":"u2"}"#).unwrap(),
        ClientMsg::Kick {
            room: "p-x".into(),
            user: "u2".into(),
            ban: false
        },
        "a kick without `ban` is a kick"
    );
    check(
        r#"{"type":"set_role","room":"p-x","user":"u2","role":"viewer"}"#,
        ClientMsg::SetRole {
            room: "p-x".into(),
            user: "u2".into(),
            role: Role::Viewer,
        },
    );
    check(
        r#"{"type":"set_read_only","room":"p-x","read_only":true}"#,
        ClientMsg::SetReadOnly {
            room: "p-x".into(),
            read_only: true,
        },
    );
    check(
        r#"{"type":"rotate_invite","room":"p-x"}"#,
        ClientMsg::RotateInvite { room: "p-x".into() },
    );
    check(
        r#"{"type":"refresh","jwt":"a.b.c"}"#,
        ClientMsg::Refresh {
            jwt: "a.b.c".into(),
        },
    );
}

#[test]
fn server_access_messages() {
    check(
        r#"{"type":"room_created","room":"p-x","name":"Team","invite":"s3cret"}"#,
        ServerMsg::RoomCreated {
            room: "p-x".into(),
            name: "Team".into(),
            invite: "s3cret".into(),
        },
    );
    check(
        r#"{"type":"joined","room":"p-x","members":[{"id":"u1","name":"Ada","role":"owner"}],"count":1,"history":[],"last_seq":0,"title":"Team","role":"owner","read_only":true,"invite":"s3cret"}"#,
        ServerMsg::Joined {
            room: "p-x".into(),
            count: 1,
            members: vec![Member {
                id: "u1".into(),
                name: "Ada".into(),
                role: Some(Role::Owner),
            }],
            history: vec![],
            last_seq: 0,
            gap: false,
            title: Some("Team".into()),
            role: Some(Role::Owner),
            read_only: true,
            invite: Some("s3cret".into()),
        },
    );
    check(
        r#"{"type":"hello","protocol_version":1,"user_id":"app:42"}"#,
        ServerMsg::Hello {
            protocol_version: 1,
            user_id: "app:42".into(),
            token: None,
        },
    );
    check(
        r#"{"type":"invite","room":"p-x","invite":"n3w"}"#,
        ServerMsg::Invite {
            room: "p-x".into(),
            invite: "n3w".into(),
        },
    );
    check(
        r#"{"type":"room_updated","room":"p-x","read_only":false}"#,
        ServerMsg::RoomUpdated {
            room: "p-x".into(),
            read_only: false,
        },
    );
    check(
        r#"{"type":"role_changed","room":"p-x","user":"u2","role":"member"}"#,
        ServerMsg::RoleChanged {
            room: "p-x".into(),
            user: "u2".into(),
            role: Role::Member,
        },
    );
    check(
        r#"{"type":"kicked","room":"p-x","banned":false}"#,
        ServerMsg::Kicked {
            room: "p-x".into(),
            banned: false,
        },
    );
}
