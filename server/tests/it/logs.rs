//! `--log-format json`: one JSON object per line on stderr, and every line a connection
//! logs carries its `conn` span — its id, endpoint and peer address.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn json_logs_carry_the_connections_id_and_peer() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--memory-store",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "tandem_server=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let mut c = crate::util::Client::connect(&format!("ws://{addr}/ws")).await;
    c.hello(None).await;
    c.join("logs", "Ada").await;
    drop(c);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let lines = lines.join().unwrap();
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let in_conn: Vec<&serde_json::Value> = parsed
        .iter()
        .filter(|v| v["span"]["name"] == "conn")
        .collect();
    assert!(
        !in_conn.is_empty(),
        "a connection logged something: {lines:?}"
    );
    for v in &in_conn {
        assert!(v["span"]["id"].is_u64(), "{v}");
        assert_eq!(v["span"]["endpoint"], "ws", "{v}");
        let peer = v["span"]["peer"].as_str().unwrap_or("");
        assert!(peer.starts_with("127.0.0.1:"), "{v}");
    }
    assert!(
        in_conn
            .iter()
            .any(|v| v["fields"]["message"] == "connected"),
        "the connection's own lines: {in_conn:?}"
    );
}
