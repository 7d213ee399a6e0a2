//! The HTTP API: a backend's message is stored, numbered, delivered and idempotent; history
//! pages; the admin API lists rooms and connections and acts on them; every refusal is JSON
//! `{code, message}` with its status (503 with the store down: `cluster_faults.rs`; the
//! admin API: `api_admin.rs`).

use super::http::{api, request, API_KEY};
use super::util::{chat_text, TestServer};
use serde_json::json;
use tandem_server::Config;

pub fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::for_tests(dir);
    config.api_keys = vec![API_KEY.to_owned()];
    config
}

fn post(text: &str, client_id: Option<&str>) -> String {
    json!({"text": text, "name": "CI", "client_id": client_id}).to_string()
}

#[tokio::test]
async fn a_published_message_is_stored_delivered_once_and_pages_with_history() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut reader = server.user().await;
    reader.join("news", "Reader").await;

    let sent = api(
        server.addr,
        "POST",
        "/api/rooms/news/messages",
        Some(&post("build green", Some("b-1"))),
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let msg = &sent.json()["message"];
    assert_eq!(msg["seq"], 1);
    assert_eq!(msg["sender"], json!({"id": "bot:CI", "name": "CI"}));
    let got = reader.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(chat_text(&got), Some(("news", 1, "build green")));

    // A retry (same client_id, same text) gets the original back and posts nothing.
    let again = api(
        server.addr,
        "POST",
        "/api/rooms/news/messages",
        Some(&post("build green", Some("b-1"))),
    )
    .await;
    assert_eq!((again.status, &again.json()["message"]), (201, msg));
    // The same key through the header.
    let auth = format!("Bearer {API_KEY}");
    let headers = [("Authorization", auth.as_str()), ("Idempotency-Key", "b-1")];
    let body = json!({"text": "build green", "name": "CI"}).to_string();
    let by_header = request(
        server.addr,
        ("POST", "/api/rooms/news/messages"),
        &headers,
        Some(&body),
    )
    .await
    .unwrap();
    assert_eq!((by_header.status, &by_header.json()["message"]), (201, msg));
    // Another text under the key is a conflict.
    let other = api(
        server.addr,
        "POST",
        "/api/rooms/news/messages",
        Some(&post("build red", Some("b-1"))),
    )
    .await;
    assert_eq!(
        (other.status, other.code().as_str()),
        (409, "client_id_reused")
    );

    // A member's message after it; then history pages, oldest first.
    reader.chat("news", "thanks").await;
    reader
        .recv_until(|m| chat_text(m).is_some_and(|c| c.2 == "thanks"))
        .await;
    for n in 0..3 {
        let text = format!("step {n}");
        let r = api(
            server.addr,
            "POST",
            "/api/rooms/news/messages",
            Some(&post(&text, None)),
        )
        .await;
        assert_eq!(r.status, 201);
        let got = reader.recv_until(|m| chat_text(m).is_some()).await;
        assert_eq!(
            chat_text(&got).map(|c| c.2),
            Some(text.as_str()),
            "one delivery each"
        );
    }
    let page = api(server.addr, "GET", "/api/rooms/news/messages?limit=2", None).await;
    assert_eq!(page.status, 200);
    let page = page.json();
    let seqs: Vec<u64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!((seqs, &page["has_more"]), (vec![4, 5], &json!(true)));
    let older = api(
        server.addr,
        "GET",
        "/api/rooms/news/messages?before=4&limit=10",
        None,
    )
    .await
    .json();
    let texts: Vec<&str> = older["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["build green", "thanks", "step 0"]);
    assert_eq!(older["has_more"], json!(false));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn every_refusal_is_json_with_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.api_rate_per_sec = 1000;
    let server = TestServer::start(config).await;
    let addr = server.addr;
    let path = "/api/rooms/lobby/messages";

    // 401: no key, or a wrong one; the OpenAPI document needs none.
    let none = request(addr, ("POST", path), &[], Some(&post("x", None)))
        .await
        .unwrap();
    assert_eq!((none.status, none.code().as_str()), (401, "unauthorized"));
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    let wrong = request(
        addr,
        ("GET", "/api/rooms"),
        &[("Authorization", "Bearer not-the-key-at-all")],
        None,
    )
    .await
    .unwrap();
    assert_eq!(wrong.status, 401);
    let doc = request(addr, ("GET", "/api/openapi.json"), &[], None)
        .await
        .unwrap();
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json()["openapi"], "3.1.0");

    // 400: a bad room, a blank or too long text, a bad name, JSON that is not the body,
    // a bad page.
    for (path, body, code) in [
        (
            "/api/rooms/no%20spaces/messages",
            post("x", None),
            "invalid_room",
        ),
        (path, post("   ", None), "invalid_text"),
        (path, post(&"x".repeat(4001), None), "text_too_long"),
        (
            path,
            json!({"text": "x", "name": ""}).to_string(),
            "invalid_name",
        ),
        (
            path,
            json!({"text": "x", "client_id": "has space"}).to_string(),
            "invalid_message",
        ),
        (path, "{\"text\": ".to_owned(), "bad_request"),
        (path, json!({"name": "no text"}).to_string(), "bad_request"),
    ] {
        let r = api(addr, "POST", path, Some(&body)).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, code),
            "{body}: {}",
            r.body
        );
    }
    for query in ["limit=0", "limit=201", "before=0", "limit=many"] {
        let r = api(addr, "GET", &format!("{path}?{query}"), None).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "bad_request"),
            "{query}"
        );
    }

    // 403: the room is read-only.
    let set = api(
        addr,
        "PUT",
        "/api/rooms/lobby/read-only",
        Some(r#"{"read_only": true}"#),
    )
    .await;
    assert_eq!(set.status, 204, "{}", set.body);
    let r = api(addr, "POST", path, Some(&post("x", None))).await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));

    // 404: no such room's history, endpoint or connection; 405 with what it takes.
    for (method, path) in [
        ("GET", "/api/rooms/empty/messages"),
        ("GET", "/api/nothing"),
        ("DELETE", "/api/connections/999999"),
        ("DELETE", "/api/users/nobody/connections"),
    ] {
        let r = api(addr, method, path, None).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (404, "not_found"),
            "{method} {path}"
        );
    }
    let r = api(addr, "DELETE", "/api/rooms/lobby/messages", None).await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, POST")));
    assert_eq!(r.code(), "method_not_allowed");

    // 413: a body over 64 KiB; 415: not JSON.
    let huge = json!({"text": "x".repeat(70_000)}).to_string();
    let r = api(addr, "POST", "/api/rooms/other/messages", Some(&huge)).await;
    assert_eq!((r.status, r.code().as_str()), (413, "payload_too_large"));
    let auth = format!("Bearer {API_KEY}");
    let plain = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "text/plain"),
    ];
    let r = request(
        addr,
        ("POST", "/api/rooms/other/messages"),
        &plain,
        Some("hi"),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status, r.code().as_str()),
        (415, "unsupported_media_type")
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_and_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.api_rate_per_sec = 1;
    let server = TestServer::start(config).await;
    // A burst of two, then one a second.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(api(server.addr, "GET", "/api/rooms", None).await);
    }
    assert_eq!(
        statuses.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 200, 429]
    );
    assert_eq!(statuses[2].code(), "rate_limited");
    assert_eq!(statuses[2].header("retry-after"), Some("1"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn short_keys_are_refused_and_a_key_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut short = config(dir.path());
    short.api_keys = vec!["short".into()];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let refused = tandem_server::run(listener, short, stop).await;
    assert!(format!("{refused:?}").contains("too short"), "{refused:?}");

    let file = dir.path().join("keys");
    std::fs::write(&file, "# operators\n\nfrom-the-key-file-0001\n").unwrap();
    let mut from_file = config(dir.path());
    from_file.api_keys.clear();
    from_file.api_key_file = Some(file);
    let server = TestServer::start(from_file).await;
    let auth = [("Authorization", "Bearer from-the-key-file-0001")];
    let r = request(server.addr, ("GET", "/api/rooms"), &auth, None)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop().await.unwrap();
}
