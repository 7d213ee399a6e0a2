//! The real server, in-process through [`tandem_server::run`]: started on port 0 with a
//! temporary data directory and the workspace's built client, stopped through its token, and
//! started again on the same port and data directory.

use std::{net::SocketAddr, path::PathBuf, time::Duration};
use tandem_server::{run, Config, Error};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct TestServer {
    addr: SocketAddr,
    config: Config,
    running: Option<Running>,
    /// Kept for the server's lifetime, removed on drop.
    _data: tempfile::TempDir,
}

struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), Error>>,
}

/// The built client, or a clear failure if it is not there.
pub fn dist_dir() -> PathBuf {
    let dist = crate::workspace_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} is missing: the e2e tests serve the built client; run `trunk build --release` \
         first (or `cargo xtask test`, which does)",
        dist.join("index.html").display()
    );
    dist
}

impl TestServer {
    /// Start on `127.0.0.1:0` with a fresh data directory.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// [`TestServer::start`], with `prepare` changing the configuration (or seeding the
    /// data directory it names) first.
    pub async fn start_with(prepare: impl FnOnce(&mut Config)) -> TestServer {
        let data = tempfile::tempdir().expect("temporary data directory");
        let mut config = Config::for_tests(data.path());
        config.static_dir = dist_dir();
        // Browsers answer pings themselves, but two Chromiums on two cores can be slow to be
        // scheduled: keep the test default's quick heartbeat from dropping them spuriously.
        config.heartbeat_ms = 1_000;
        config.client_timeout_ms = 10_000;
        prepare(&mut config);
        let listener = bind("127.0.0.1:0".parse().expect("address")).await;
        let addr = listener.local_addr().expect("local address");
        let mut server = TestServer {
            addr,
            config,
            running: None,
            _data: data,
        };
        server.serve(listener);
        server
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn serve(&mut self, listener: std::net::TcpListener) {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run(listener, self.config.clone(), shutdown.clone()));
        self.running = Some(Running { shutdown, task });
    }

    /// Cancel the token and wait for `run` to return (it closes every socket with 1001).
    pub async fn stop(&mut self) {
        let Running { shutdown, task } = self.running.take().expect("the server is running");
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("run returns within 20 s of shutdown")
            .expect("run did not panic")
            .expect("run returns Ok after a graceful shutdown");
    }

    /// Start again on the same port and data directory.
    pub async fn start_again(&mut self) {
        assert!(self.running.is_none(), "stop the server first");
        let listener = bind(self.addr).await;
        self.serve(listener);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.shutdown.cancel();
        }
    }
}

/// Bind, retrying for a while: the port of a server that just stopped may take a moment.
async fn bind(addr: SocketAddr) -> std::net::TcpListener {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => {
                listener
                    .set_nonblocking(true)
                    .expect("non-blocking listener");
                return listener;
            }
            Err(e) if tokio::time::Instant::now() >= deadline => panic!("bind {addr}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
