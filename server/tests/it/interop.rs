//! Interoperability: a stock Yjs client from npm (`yjs` + `y-websocket`, in Node.js) and a
//! Rust `yrs` client edit one room's document through the server, both ways.
//!
//! Needs `node` (18 or newer) on the PATH and the pinned packages of
//! `server/tests/yjs-interop` (its `package-lock.json`), which `cargo xtask test` installs.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use tandem_server::Config;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yjs-interop")
}

fn run(cmd: &mut Command, what: &str) -> Output {
    cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {what} ({e}): this test needs Node.js 18+ and npm on the PATH \
             (Debian: apt-get install nodejs npm)"
        )
    })
}

/// The interop folder's npm packages are there (`cargo xtask test` installs them with
/// `npm ci`); a clear failure if not.
fn require_packages(dir: &Path) {
    let version = run(Command::new("node").arg("--version"), "node");
    assert!(version.status.success(), "node --version failed");
    let present = ["y-websocket", "yjs", "ws"].iter().all(|p| {
        dir.join("node_modules")
            .join(p)
            .join("package.json")
            .is_file()
    });
    assert!(
        present,
        "{} lacks its npm packages: `cargo xtask test` installs them (or: npm ci --prefix \
         server/tests/yjs-interop)",
        dir.display()
    );
}

fn is_node(json: &str) -> bool {
    json.contains(r#""name":"node""#)
}

/// Install the Node packages, then start a server whose heartbeat leaves Node's start-up
/// time alone. Returns the interop folder, the data directory (keep it alive) and the server.
async fn start() -> (PathBuf, tempfile::TempDir, TestServer) {
    let dir = interop_dir();
    require_packages(&dir);
    let data = tempfile::tempdir().unwrap();
    let config = Config {
        heartbeat_ms: 1_000,
        client_timeout_ms: 30_000,
        ..Config::for_tests(data.path())
    };
    let server = TestServer::start(config).await;
    (dir, data, server)
}

#[tokio::test]
async fn a_stock_yjs_client_and_a_yrs_client_see_each_others_edits() {
    let (dir, _data, server) = start().await;
    let mut rust = YClient::join(&server, "interop").await;
    let me = rust.client_id();
    rust.set_awareness(me, 1, r#"{"user":{"name":"rust"}}"#)
        .await;
    rust.push("from-rust;").await;
    rust.sync().await;

    let (url, script_dir) = (server.url("/yjs"), dir.clone());
    let node = tokio::task::spawn_blocking(move || {
        run(
            Command::new("node")
                .args(["--test", "interop.test.mjs"])
                .env("TANDEM_YJS_URL", url)
                .env("TANDEM_ROOM", "interop")
                .current_dir(script_dir),
            "node",
        )
    });

    // The Node client's edit and presence reach the Rust client; it answers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !(rust.text().contains("from-node;")
        && rust.awareness.values().any(|(_, json)| is_node(json)))
    {
        if node.is_finished() {
            let out = node.await.unwrap();
            panic!(
                "the Node client ended early:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no edit from Node in time"
        );
        if let Some(Err(closed)) = rust.next_within(Duration::from_millis(100)).await {
            panic!("the Rust client was closed: {closed:?}");
        }
    }
    rust.push("ack-from-rust;").await;
    assert_eq!(rust.text(), "from-rust;from-node;ack-from-rust;");

    // The Rust client need not read meanwhile: the heartbeat timeout is long here.
    let out = tokio::time::timeout(Duration::from_secs(90), node)
        .await
        .expect("the node test finishes in time")
        .unwrap();
    assert!(
        out.status.success(),
        "the Node client failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Node has gone: so has its awareness entry.
    rust.until(|c| !c.awareness.values().any(|(_, json)| is_node(json)))
        .await;
    server.stop().await.unwrap();
}

/// `browser-peer.mjs`, the stock Yjs peer the end-to-end suite puts beside a browser
/// (`e2e/tests/doc.rs`), checked here against a yrs client: its edit, name and caret arrive
/// (the caret as Yjs relative positions, as y-codemirror publishes it), and it sees ours.
#[tokio::test]
async fn the_browser_peer_script_edits_alongside_a_yrs_client() {
    let (dir, _data, server) = start().await;
    let mut rust = YClient::join(&server, "peer").await;
    rust.push("before;").await;
    rust.sync().await;

    let (url, script_dir) = (server.url("/yjs"), dir.clone());
    let node = tokio::task::spawn_blocking(move || {
        run(
            Command::new("node")
                .args(["browser-peer.mjs", &url, "peer", "node-peer"])
                .args(["from-peer;", "from-yrs;", "60000"])
                .current_dir(script_dir),
            "node",
        )
    });

    let peer_with_caret = |json: &str| {
        let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        v["user"]["name"] == "node-peer" && v["cursor"]["head"].is_object()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !(rust.text().contains("from-peer;")
        && rust
            .awareness
            .values()
            .any(|(_, json)| peer_with_caret(json)))
    {
        if node.is_finished() {
            let out = node.await.unwrap();
            panic!(
                "the Node peer ended early:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no edit and caret from the Node peer in time; text is {:?}",
            rust.text()
        );
        if let Some(Err(closed)) = rust.next_within(Duration::from_millis(100)).await {
            panic!("the Rust client was closed: {closed:?}");
        }
    }
    assert_eq!(rust.text(), "before;from-peer;");
    rust.push("from-yrs;").await;

    let out = tokio::time::timeout(Duration::from_secs(90), node)
        .await
        .expect("the Node peer finishes in time")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the Node peer failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(r#"ok "before;from-peer;from-yrs;""#),
        "the Node peer's final text: {stdout}"
    );
    server.stop().await.unwrap();
}
