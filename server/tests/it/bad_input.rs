//! Bad input gets a clear answer, and the connection (or the server) keeps working.

use crate::util::*;
use serde_json::json;
use tandem_server::Config;
use tandem_shared::{
    limits::{MAX_NAME_LEN, MAX_TEXT_LEN},
    ErrorCode, ServerMsg,
};
use tokio_tungstenite::tungstenite::{
    protocol::frame::{
        coding::{CloseCode, Data, OpCode},
        Frame,
    },
    Message,
};

async fn expect_error(c: &mut Client, raw: &str, code: ErrorCode) {
    c.send_text(raw).await;
    let got = c.recv().await;
    assert_eq!(error_code(&got), Some(code), "for {raw}: {got:?}");
}

#[tokio::test]
async fn malformed_messages_get_errors_and_the_connection_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut c = server.connect().await;
    let long_name = "n".repeat(MAX_NAME_LEN + 1);
    let long_text = "t".repeat(MAX_TEXT_LEN + 1);
    let cases = [
        ("{not json".to_owned(), ErrorCode::BadJson),
        (
            r#"{"type":"teleport","room":"x"}"#.to_owned(),
            ErrorCode::UnknownType,
        ),
        (
            r#"{"type":"join","room":"lobby"}"#.to_owned(),
            ErrorCode::InvalidMessage,
        ),
        (
            r#"{"type":"chat","room":"lobby","text":42}"#.to_owned(),
            ErrorCode::InvalidMessage,
        ),
        (
            json!({"type":"join","room":"lobby","name":long_name}).to_string(),
            ErrorCode::NameTooLong,
        ),
        (
            json!({"type":"join","room":"no spaces!","name":"Ada"}).to_string(),
            ErrorCode::InvalidRoom,
        ),
        (
            json!({"type":"join","room":"x".repeat(65),"name":"Ada"}).to_string(),
            ErrorCode::InvalidRoom,
        ),
        (
            json!({"type":"chat","room":"lobby","text":"hi"}).to_string(),
            ErrorCode::NotJoined,
        ),
        (
            json!({"type":"leave","room":"lobby"}).to_string(),
            ErrorCode::NotJoined,
        ),
        (
            json!({"type":"join","room":"lobby","name":"Ada\u{202E}nimda"}).to_string(),
            ErrorCode::InvalidName,
        ),
    ];
    for (raw, code) in &cases {
        expect_error(&mut c, raw, *code).await;
    }
    // Still usable: join and chat work.
    c.join("lobby", "Ada").await;
    expect_error(
        &mut c,
        &json!({"type":"chat","room":"lobby","text":long_text}).to_string(),
        ErrorCode::TextTooLong,
    )
    .await;
    expect_error(
        &mut c,
        &json!({"type":"chat","room":"lobby","text":"  "}).to_string(),
        ErrorCode::InvalidText,
    )
    .await;
    let errored =
        json!({"type":"chat","room":"lobby","text":long_text,"client_id":"c9"}).to_string();
    c.send_text(&errored).await;
    match c.recv().await {
        ServerMsg::Error {
            client_id, room, ..
        } => {
            assert_eq!(
                client_id.as_deref(),
                Some("c9"),
                "the error names the failed message"
            );
            assert_eq!(room.as_deref(), Some("lobby"));
        }
        other => panic!("{other:?}"),
    }
    c.chat("lobby", "works").await;
    let m = c.recv().await;
    assert_eq!(chat_text(&m), Some(("lobby", 1, "works")));
    // Binary frames are not the room protocol: an error, not a disconnect.
    c.send_raw(Message::binary(vec![1, 2, 3])).await;
    assert_eq!(error_code(&c.recv().await), Some(ErrorCode::InvalidMessage));
    c.sync().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn outdated_protocol_version_is_told_to_reload() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut c = server.connect().await;
    c.send_json(json!({"type":"hello","protocol_version":0}))
        .await;
    match c.recv().await {
        ServerMsg::Error {
            code: ErrorCode::ProtocolMismatch,
            message,
            ..
        } => assert!(message.contains("reload"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.closed().await, Some(CloseCode::Policy));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn oversized_message_closes_with_1009() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut c = server.connect().await;
    let mut other = server.connect().await;
    other.join("lobby", "Bob").await;
    let huge = "x".repeat(Config::defaults().max_frame + 1);
    c.send_text(&huge).await;
    assert_eq!(c.closed().await, Some(CloseCode::Size));
    // Also when the excess arrives in fragments.
    let mut f = server.connect().await;
    let half = Config::defaults().max_frame / 2 + 1;
    f.send_raw(Message::Frame(Frame::message(
        vec![b'x'; half],
        OpCode::Data(Data::Text),
        false,
    )))
    .await;
    f.send_raw(Message::Frame(Frame::message(
        vec![b'x'; half],
        OpCode::Data(Data::Continue),
        true,
    )))
    .await;
    assert_eq!(f.closed().await, Some(CloseCode::Size));
    // Others are unaffected.
    other.chat("lobby", "fine").await;
    assert!(chat_text(&other.recv().await).is_some());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut c = server.connect().await;
    c.send_raw(Message::Frame(Frame::message(
        vec![b'{', 0xff, 0xfe, b'}'],
        OpCode::Data(Data::Text),
        true,
    )))
    .await;
    assert_eq!(c.closed().await, Some(CloseCode::Invalid));
    // Fragmented: the bad byte in a continuation frame.
    let mut f = server.connect().await;
    f.send_raw(Message::Frame(Frame::message(
        b"{\"type\":".to_vec(),
        OpCode::Data(Data::Text),
        false,
    )))
    .await;
    f.send_raw(Message::Frame(Frame::message(
        vec![0xc0, 0xaf],
        OpCode::Data(Data::Continue),
        true,
    )))
    .await;
    assert_eq!(f.closed().await, Some(CloseCode::Invalid));
    server.connect().await.sync().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn disallowed_origin_is_refused_with_403() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.allowed_origins = vec!["https://tandem.example".into()];
    let server = TestServer::start(config).await;
    let url = server.url("/ws");
    assert_eq!(
        Client::connect_with_origin(&url, "https://evil.example").await,
        Err(403)
    );
    assert_eq!(Client::connect_with_origin(&url, "null").await, Err(403));
    assert_eq!(
        Client::connect_with_origin(&url, "https://tandem.example").await,
        Ok(())
    );
    assert_eq!(
        Client::connect_with_origin(&url, "http://localhost:8080").await,
        Ok(())
    );
    let own = format!("http://{}", server.addr);
    assert_eq!(Client::connect_with_origin(&url, &own).await, Ok(()));
    assert_eq!(
        Client::connect_with_origin(&server.url("/echo"), "https://evil.example").await,
        Err(403)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_flood_is_rate_limited_then_closed_and_other_rooms_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await; // defaults: burst 100, 20/s
    let mut quiet = server.connect().await;
    quiet.join("quiet", "Q").await;
    let mut flood = server.connect().await;
    flood.join("noisy", "F").await;
    // In one write: the server closes the flooder without lingering, so writes after its
    // close would fail.
    for i in 0..400 {
        let chat = json!({"type": "chat", "room": "noisy", "text": format!("spam {i}")});
        let frame = Message::text(chat.to_string());
        futures_util::SinkExt::feed(&mut flood.ws, frame)
            .await
            .unwrap();
    }
    futures_util::SinkExt::flush(&mut flood.ws).await.unwrap();
    // Meanwhile the other room works.
    quiet.chat("quiet", "still responsive").await;
    assert_eq!(
        chat_text(&quiet.recv().await).map(|c| c.2),
        Some("still responsive")
    );

    let (mut chats, mut limited) = (0, 0);
    let close = loop {
        match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut flood.ws))
            .await
            .expect("in time")
        {
            Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMsg>(&t).unwrap() {
                ServerMsg::Chat(_) => chats += 1,
                m if error_code(&m) == Some(ErrorCode::RateLimited) => limited += 1,
                _ => {}
            },
            Some(Ok(Message::Close(f))) => break f.map(|f| f.code),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break None,
        }
    };
    // What was accepted is stored: the burst of 100 (the join counted too), then nothing.
    // Acks still in the room's queue when the flooder is closed may not reach it.
    let mut check = server.connect().await;
    let ServerMsg::Joined { last_seq, .. } = check.join("noisy", "Check").await else {
        unreachable!()
    };
    assert!(
        (99..=110).contains(&last_seq),
        "the burst went through, then stopped: {last_seq} stored"
    );
    assert!(chats <= last_seq, "{chats} acks for {last_seq} stored");
    assert!(
        (1..=5).contains(&limited),
        "one error per run of refused messages, not one each: {limited}"
    );
    assert_eq!(close, Some(CloseCode::Policy));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_not_buffered() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.rate_per_sec = 0;
    config.outbox_capacity = 64;
    config.memory_store = true;
    // Keep the heartbeat out of the way: the outbox must be what cuts the reader off.
    config.heartbeat_ms = 5_000;
    config.client_timeout_ms = 60_000;
    let server = TestServer::start(config).await;
    let mut stalled = server.connect().await;
    stalled.join("firehose", "Stalled").await;
    let mut sender = server.connect().await;
    sender.join("firehose", "Sender").await;

    let text = "x".repeat(3_000);
    const SENT: usize = 6_000; // ~18 MB of frames, far beyond socket buffers
    for i in 0..SENT {
        sender.chat("firehose", &text).await;
        if i % 16 == 0 {
            sender.sync().await; // the sender reads its own acks, so it is never slow
        }
    }
    sender.sync().await;

    // Now read what the stalled client was sent: the stream must end early, with 1013.
    let mut received = 0;
    let close = loop {
        match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut stalled.ws))
            .await
            .expect("stream ends in time")
        {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(f))) => break f.map(|f| f.code),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break None,
        }
    };
    assert!(
        received < SENT,
        "the stalled client was cut off, not buffered ({received} of {SENT})"
    );
    assert!(matches!(close, Some(CloseCode::Again) | None), "{close:?}");
    // The sender was never held up.
    sender.chat("firehose", "after").await;
    sender
        .recv_until(|m| chat_text(m).is_some_and(|c| c.2 == "after"))
        .await;
    server.stop().await.unwrap();
}
