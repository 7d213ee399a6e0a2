//! Embedding: an app's users come with a JWT its backend signed (HS256 with `--jwt-secret`,
//! RS256/ES256 with `--jwt-public-key`) — in `hello {jwt}` or `?token=` — naming them, their
//! display name, their expiry and the rooms they may use with rights. Expiry is enforced on
//! live connections (4401) unless a fresh JWT refreshes it.

use crate::util::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::{path::PathBuf, time::Duration};
use tandem_server::Config;
use tandem_shared::{ErrorCode, ServerMsg};

const SECRET: &str = "the app's shared secret";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn keys() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/keys")
}

fn hs256(claims: Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
}

async fn with_secret(dir: &std::path::Path) -> TestServer {
    TestServer::start(Config {
        jwt_secret: Some(SECRET.into()),
        // Clients here wait on each other without reading: no heartbeat timeouts meanwhile.
        client_timeout_ms: 10_000,
        ..Config::for_tests(dir)
    })
    .await
}

/// Say `hello {jwt}`; the reply (a `hello`, or the error).
async fn hello_jwt(c: &mut Client, jwt: &str) -> ServerMsg {
    c.send_json(json!({"type": "hello", "protocol_version": 1, "jwt": jwt}))
        .await;
    c.recv().await
}

async fn join(c: &mut Client, room: &str) -> ServerMsg {
    c.send_json(json!({"type": "join", "room": room, "name": "Asked"}))
        .await;
    c.recv_until(|m| matches!(m, ServerMsg::Joined { .. } | ServerMsg::Error { .. }))
        .await
}

#[tokio::test]
async fn an_apps_jwt_names_the_user_and_limits_the_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_secret(dir.path()).await;
    let mut ada = server.connect().await;
    let jwt = hs256(json!({
        "sub": "42", "name": "Ada Lovelace", "exp": now() + 600,
        "rooms": {"support-42": ["read", "write", "edit"], "announcements": ["read"]}
    }));
    match hello_jwt(&mut ada, &jwt).await {
        ServerMsg::Hello { user_id, token, .. } => {
            assert_eq!(user_id, "app:42");
            assert_eq!(token, None, "no Tandem token stands in for the app's JWT");
        }
        other => panic!("{other:?}"),
    }
    match join(&mut ada, "support-42").await {
        ServerMsg::Joined { members, .. } => {
            assert_eq!(
                members[0].name, "Ada Lovelace",
                "the app's name, not the one asked"
            )
        }
        other => panic!("{other:?}"),
    }
    ada.send_json(json!({"type": "chat", "room": "support-42", "text": "hi"}))
        .await;
    assert!(matches!(ada.recv().await, ServerMsg::Chat(m) if m.sender.id == "app:42"));
    // Read-only where the JWT says read; nowhere else at all.
    assert!(matches!(
        join(&mut ada, "announcements").await,
        ServerMsg::Joined { .. }
    ));
    ada.send_json(json!({"type": "chat", "room": "announcements", "text": "hi"}))
        .await;
    assert_eq!(error_code(&ada.recv().await), Some(ErrorCode::Forbidden));
    assert_eq!(
        error_code(&join(&mut ada, "lobby").await),
        Some(ErrorCode::Forbidden)
    );
    // Rooms chosen by the app: no creating private ones on the side.
    ada.send_json(json!({"type": "create_room", "private": true, "name": "side"}))
        .await;
    assert_eq!(error_code(&ada.recv().await), Some(ErrorCode::Forbidden));

    // A forged, expired or unknown-right JWT: refused, and the connection stays anonymous.
    for bad in [
        encode(
            &Header::new(Algorithm::HS256),
            &json!({"sub": "42", "exp": now() + 600}),
            &EncodingKey::from_secret(b"another secret").unwrap(),
        )
        .unwrap(),
        hs256(json!({"sub": "42", "exp": now() - 1})),
        hs256(json!({"sub": "42", "exp": now() + 600, "rooms": {"x": ["own"]}})),
    ] {
        let mut eve = server.connect().await;
        let fresh = eve.user_id.clone();
        assert_eq!(
            error_code(&hello_jwt(&mut eve, &bad).await),
            Some(ErrorCode::BadJwt)
        );
        match join(&mut eve, "support-42").await {
            ServerMsg::Joined { members, .. } => {
                assert!(members.iter().any(|m| m.id == fresh));
                assert!(members
                    .iter()
                    .all(|m| m.id != "app:42" || m.name == "Ada Lovelace"));
            }
            other => panic!("{other:?}"),
        }
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_apps_moderator_moderates_public_rooms_and_query_tokens_work() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_secret(dir.path()).await;
    let mod_jwt = hs256(json!({"sub": "mod", "exp": now() + 600, "rooms": {"*": ["moderate"]}}));
    // `?token=` on /ws: as if the first message were `hello {jwt}`.
    let mut moderator = Client::connect(&server.url(&format!("/ws?token={mod_jwt}"))).await;
    match moderator.recv().await {
        ServerMsg::Hello { user_id, .. } => assert_eq!(user_id, "app:mod"),
        other => panic!("{other:?}"),
    }
    join(&mut moderator, "lobby").await;
    let mut troll = server.connect().await;
    troll.hello(None).await;
    join(&mut troll, "lobby").await;
    moderator
        .send_json(json!({"type": "kick", "room": "lobby", "user": troll.user_id, "ban": true}))
        .await;
    assert!(matches!(
        troll
            .recv_until(|m| matches!(m, ServerMsg::Kicked { .. }))
            .await,
        ServerMsg::Kicked { banned: true, .. }
    ));
    assert_eq!(
        error_code(&join(&mut troll, "lobby").await),
        Some(ErrorCode::Forbidden)
    );
    // And an app without a key configured refuses JWTs.
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = TestServer::on(plain_dir.path()).await;
    let mut c = plain.connect().await;
    assert_eq!(
        error_code(&hello_jwt(&mut c, &mod_jwt).await),
        Some(ErrorCode::BadJwt)
    );
    server.stop().await.unwrap();
    plain.stop().await.unwrap();
}

#[tokio::test]
async fn expiry_is_enforced_on_live_connections_unless_refreshed() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_secret(dir.path()).await;
    let soon = |secs| hs256(json!({"sub": "7", "exp": now() + secs}));
    let mut short = server.connect().await;
    hello_jwt(&mut short, &soon(2)).await;
    let mut kept = server.connect().await;
    hello_jwt(&mut kept, &soon(2)).await;
    // The second one refreshes in time (same user); the first does not.
    kept.send_json(json!({"type": "refresh", "jwt": soon(600)}))
        .await;
    // Another user's JWT cannot be slipped in as a refresh.
    kept.send_json(
        json!({"type": "refresh", "jwt": hs256(json!({"sub": "8", "exp": now() + 600}))}),
    )
    .await;
    assert_eq!(error_code(&kept.recv().await), Some(ErrorCode::BadJwt));
    let started = std::time::Instant::now();
    let code = short.closed().await.map(u16::from);
    assert_eq!(code, Some(4401), "closed with 4401 when the JWT expired");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The refreshed one is still served.
    assert!(kept.sync().await.is_empty());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn rs256_and_es256_public_keys() {
    for (alg, private, public) in [
        (Algorithm::RS256, "rsa-private.pem", "rsa-public.pem"),
        (Algorithm::ES256, "ec-private.pem", "ec-public.pem"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(Config {
            jwt_public_key: Some(keys().join(public)),
            ..Config::for_tests(dir.path())
        })
        .await;
        let pem = std::fs::read(keys().join(private)).unwrap();
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
            _ => EncodingKey::from_ec_pem(&pem).unwrap(),
        };
        let jwt = encode(
            &Header::new(alg),
            &json!({"sub": "k", "exp": now() + 60}),
            &key,
        )
        .unwrap();
        let mut c = server.connect().await;
        assert!(
            matches!(hello_jwt(&mut c, &jwt).await, ServerMsg::Hello { user_id, .. } if user_id == "app:k"),
            "{alg:?}"
        );
        // A token signed with the shared-secret algorithm is not accepted instead.
        let hs = hs256(json!({"sub": "k", "exp": now() + 60}));
        assert_eq!(
            error_code(&hello_jwt(&mut c, &hs).await),
            Some(ErrorCode::BadJwt)
        );
        server.stop().await.unwrap();
    }
}
