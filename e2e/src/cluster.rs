//! A cluster of real node processes (the release server binary) on a private Postgres and
//! Redis (`testbed`), each node on a port chosen up front so that every node can be told
//! every node's URL (`--node-url`). A node is stopped as a crash is: `kill -9`.

use std::time::Duration;
use testbed::Node;

/// The release server binary `cargo xtask test` builds before the e2e suite.
fn server_bin() -> std::path::PathBuf {
    let bin = crate::workspace_root().join("target/release/tandem-server");
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build --release -p tandem-server` (or run \
         `cargo xtask test`, which does)",
        bin.display()
    );
    bin
}

pub struct Cluster {
    pub pg: testbed::Postgres,
    pub redis: testbed::Redis,
    nodes: Vec<Option<Node>>,
    urls: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// `n` nodes serving the built client, each answering `/healthz` when this returns.
    pub async fn start(n: usize) -> Cluster {
        let (pg, redis) = tokio::task::spawn_blocking(|| {
            (
                testbed::Postgres::start().expect("a private postgres"),
                testbed::Redis::start().expect("a private redis"),
            )
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ports: Vec<u16> = (0..n)
            .map(|_| {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap().port()
            })
            .collect();
        let urls: Vec<String> = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let dist = crate::server::dist_dir();
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                let listen = format!("127.0.0.1:{port}");
                let all = urls.join(",");
                let dist = dist.to_str().expect("a UTF-8 path");
                let flags = [
                    "--listen",
                    &listen,
                    "--static-dir",
                    dist,
                    "--node-url",
                    &all,
                    "--node-ttl-ms",
                    "2000",
                    "--heartbeat-ms",
                    "1000",
                    "--client-timeout-ms",
                    "10000",
                ];
                let db = pg.url();
                let node = Node::spawn(&server_bin(), dir.path(), i, (&db, &redis.url()), &flags)
                    .expect("the server binary starts");
                assert_eq!(node.addr, listen, "node {i}");
                Some(node)
            })
            .collect();
        let cluster = Cluster {
            pg,
            redis,
            nodes,
            urls,
            _dir: dir,
        };
        for url in &cluster.urls {
            healthy(url).await;
        }
        cluster
    }

    /// `http://127.0.0.1:PORT` of node `i`.
    pub fn url(&self, i: usize) -> &str {
        &self.urls[i]
    }

    /// `kill -9` node `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            node.kill9();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

async fn healthy(url: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://").to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut tcp) = tokio::net::TcpStream::connect(&addr).await {
            let ask = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            let mut answer = Vec::new();
            if tcp.write_all(ask.as_bytes()).await.is_ok()
                && tcp.read_to_end(&mut answer).await.is_ok()
                && answer.starts_with(b"HTTP/1.1 200")
            {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} answers /healthz"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
