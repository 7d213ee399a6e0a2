//! Identity: a public user id proves nothing; the token the server signs does. Forged,
//! tampered or expired tokens get `bad_token` and a fresh identity, never someone else's;
//! idempotency keys are the user's own and cannot be hijacked.

use crate::util::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use tandem_server::Config;
use tandem_shared::{ErrorCode, ServerMsg};

/// Post `text` in lobby under the idempotency key `cid`.
async fn say(c: &mut Client, text: &str, cid: &str) {
    c.send_json(json!({"type": "chat", "room": "lobby", "text": text, "client_id": cid}))
        .await;
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A JWT shaped like the server's identity tokens, for `sub`, signed with `key`.
fn token_like(key: &[u8], sub: &str, iat: u64, exp: u64) -> String {
    let claims =
        json!({"iss": "tandem", "aud": "tandem-identity", "sub": sub, "iat": iat, "exp": exp});
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_public_user_id_proves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut victim = server.connect().await;
    victim.hello(None).await;
    victim.join("lobby", "Victim").await;

    // The attacker names the victim's public id, the way `hello` once allowed.
    let mut attacker = server.connect().await;
    attacker
        .send_json(json!({"type":"hello","protocol_version":1,"user_id": victim.user_id}))
        .await;
    match attacker.recv().await {
        ServerMsg::Hello { user_id, .. } => assert_ne!(user_id, victim.user_id),
        other => panic!("{other:?}"),
    }
    attacker.join("lobby", "Victim").await;
    say(&mut attacker, "i am the victim", "x1").await;
    let seen = victim.recv_until(|m| matches!(m, ServerMsg::Chat(_))).await;
    match seen {
        ServerMsg::Chat(m) => assert_ne!(m.sender.id, victim.user_id, "posted as someone else"),
        _ => unreachable!(),
    }
    // The attacker leaving does not make the victim leave, nor the other way round.
    attacker.ws.close(None).await.unwrap();
    let gone = victim.recv_until(|m| left(m, &attacker.user_id)).await;
    assert!(!left(&gone, &victim.user_id));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn forged_tampered_and_expired_tokens_get_bad_token_and_a_fresh_identity() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut victim = server.connect().await;
    victim.hello(None).await;
    let key = std::fs::read(dir.path().join("secret.key")).expect("the key was created");
    assert!(key.len() >= 32);

    let (iat, exp) = (now(), now() + 3600);
    let mut tampered: Vec<String> = victim.token.split('.').map(str::to_owned).collect();
    // The victim's token with its signature moved onto other claims.
    tampered[1] = token_like(&[1; 32], &victim.user_id, iat, exp)
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let cases = [
        (
            "forged with another key",
            token_like(&[9; 32], &victim.user_id, iat, exp),
        ),
        ("tampered", tampered.join(".")),
        (
            "expired",
            token_like(&key, &victim.user_id, iat - 7200, iat - 3600),
        ),
        ("garbage", "not-a-token".to_owned()),
    ];
    for (what, token) in cases {
        let mut attacker = server.connect().await;
        let fresh = attacker.user_id.clone();
        let refused = attacker.hello(Some(&token)).await;
        assert!(
            matches!(
                &refused,
                Some(ServerMsg::Error {
                    code: ErrorCode::BadToken,
                    ..
                })
            ),
            "{what}: {refused:?}"
        );
        assert_eq!(
            attacker.user_id, fresh,
            "{what}: keeps the welcome's identity"
        );
        assert_ne!(
            attacker.user_id, victim.user_id,
            "{what}: never the victim's"
        );
    }
    // A token signed with the server's own key is honoured (the key is what proves).
    let mut ok = server.connect().await;
    assert!(ok
        .hello(Some(&token_like(&key, &victim.user_id, iat, exp)))
        .await
        .is_none());
    assert_eq!(ok.user_id, victim.user_id);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_token_is_the_identity_across_tabs_reconnections_restarts_and_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut first = server.connect().await;
    assert!(first.hello(None).await.is_none());
    let (me, token) = (first.user_id.clone(), first.token.clone());
    // Two tabs with the same token are one member.
    first.join("lobby", "Ada").await;
    let mut second = server.connect().await;
    second.hello(Some(&token)).await;
    assert_eq!(second.user_id, me);
    match second.join("lobby", "Ada").await {
        ServerMsg::Joined { members, .. } => assert_eq!(members.len(), 1),
        other => panic!("{other:?}"),
    }
    drop((first, second));
    // After a restart on the same data directory (same key).
    let config = server.config.clone();
    server.stop().await.unwrap();
    let server = TestServer::start(config).await;
    let mut again = server.connect().await;
    assert!(again.hello(Some(&token)).await.is_none());
    assert_eq!(again.user_id, me);
    // Another node with the same `--secret-file` accepts it too (no shared session state).
    let other_dir = tempfile::tempdir().unwrap();
    let node = TestServer::start(Config {
        secret_file: Some(dir.path().join("secret.key")),
        ..Config::for_tests(other_dir.path())
    })
    .await;
    let mut there = node.connect().await;
    assert!(there.hello(Some(&token)).await.is_none());
    assert_eq!(there.user_id, me);
    // A node with its own key refuses it.
    let stranger_dir = tempfile::tempdir().unwrap();
    let stranger = TestServer::on(stranger_dir.path()).await;
    let mut refused = stranger.connect().await;
    assert!(refused.hello(Some(&token)).await.is_some());
    for s in [server, node, stranger] {
        s.stop().await.unwrap();
    }
}

#[tokio::test]
async fn idempotency_keys_cannot_be_hijacked() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut victim = server.connect().await;
    victim.hello(None).await;
    victim.join("lobby", "Victim").await;
    let mut attacker = server.connect().await;
    attacker.hello(None).await;
    attacker.join("lobby", "Attacker").await;

    // The attacker sends the victim's next key first, with its own text.
    say(&mut attacker, "swallowed?", "k-next").await;
    let theirs = attacker.recv_chats(1).await.remove(0);
    assert_eq!(theirs.sender.id, attacker.user_id);
    // The victim's real message with that key is stored and acknowledged as the victim's.
    victim.recv_chats(1).await.remove(0); // the attacker's message, broadcast
    say(&mut victim, "my real message", "k-next").await;
    let ack = victim.recv_chats(1).await.remove(0);
    assert_eq!(
        (ack.text.as_str(), ack.sender.id.as_str()),
        ("my real message", victim.user_id.as_str())
    );
    assert!(ack.seq > theirs.seq);
    // A retry of it is acknowledged with the original; the same key with another text is
    // refused, never acknowledged with the original's seq.
    say(&mut victim, "my real message", "k-next").await;
    assert_eq!(victim.recv_chats(1).await.remove(0).seq, ack.seq);
    say(&mut victim, "something else", "k-next").await;
    match victim.recv().await {
        ServerMsg::Error {
            code, client_id, ..
        } => {
            assert_eq!(code, ErrorCode::ClientIdReused);
            assert_eq!(client_id.as_deref(), Some("k-next"));
        }
        other => panic!("{other:?}"),
    }
    server.stop().await.unwrap();
}
