//! `/metrics`: the Prometheus text exposition parses, and its counters move with what
//! happens (tests in this process share one registry: differences are compared).

use crate::cluster::http_get;
use crate::util::{chat_text, TestServer};
use std::collections::HashMap;

/// Every sample of the exposition: `name{labels}` → value.
fn samples(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (key, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        out.insert(key.to_owned(), value);
    }
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF"
    );
    out
}

async fn scrape(server: &TestServer) -> HashMap<String, f64> {
    let (status, body) = http_get(server.addr, "/metrics").await.expect("an answer");
    assert_eq!(status, 200);
    samples(&body)
}

fn get(s: &HashMap<String, f64>, key: &str) -> f64 {
    s.get(key).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn counters_move_with_chat_connections_and_store_calls() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let before = scrape(&server).await;
    let mut a = server.user().await;
    a.join("metrics-room", "A").await;
    let mut b = server.user().await;
    b.join("metrics-room", "B").await;
    a.chat("metrics-room", "one").await;
    b.recv_until(|m| chat_text(m).is_some()).await;
    // Not joined: refused.
    a.chat("elsewhere", "no").await;
    a.recv_until(|m| crate::util::error_code(m).is_some()).await;
    let after = scrape(&server).await;
    let moved = |key: &str| get(&after, key) - get(&before, key);
    assert!(
        moved(r#"tandem_chat_messages_total{result="accepted"}"#) >= 1.0,
        "{after:?}"
    );
    assert!(moved(r#"tandem_chat_messages_total{result="not_joined"}"#) >= 1.0);
    assert!(
        moved("tandem_deliveries_total") >= 2.0,
        "one chat to two subscribers"
    );
    assert!(moved(r#"tandem_connections_total{endpoint="ws"}"#) >= 2.0);
    assert!(get(&after, r#"tandem_connections_open{endpoint="ws"}"#) >= 2.0);
    assert!(moved(r#"tandem_store_seconds_count{op="append"}"#) >= 1.0);
    assert!(get(&after, "tandem_rooms_live") >= 1.0);
    assert_eq!(get(&after, "tandem_cluster_link_up"), 1.0);
    assert_eq!(get(&after, "tandem_store_up"), 1.0, "the store answers");
    for name in [
        "tandem_slow_consumer_closes_total",
        "tandem_rate_limited_total",
        "tandem_documents_live",
    ] {
        assert!(after.contains_key(name), "{name} is exposed");
    }
    drop((a, b));
    server.stop().await.unwrap();
}
