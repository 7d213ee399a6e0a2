//! `trunk serve` as a developer runs it, with the workspace's `Trunk.toml` (its `[serve]` and
//! `[[proxy]]` sections), but on a free port and with every proxy pointed at a test server
//! instead of `127.0.0.1:8080`. It runs in a process group of its own, and that group is
//! killed on drop, so no trunk (or cargo it started) outlives the test.
//!
//! Trunk takes its proxies from the config file only (`--proxy-backend` adds one beside them,
//! and two on one path conflict), so the test writes a copy of `Trunk.toml` with the backend
//! address replaced, and passes it with `--config`. That copy lives under `target/`: trunk
//! runs cargo and its hooks (`cargo xtask strip-wasm`) in the config file's folder, which must
//! stay inside the workspace for cargo to find the workspace's `.cargo/config.toml` (the
//! `xtask` alias).

use std::{
    net::SocketAddr,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{timeout, Instant},
};

/// The backend address the proxies in `Trunk.toml` name (the server's default).
const DEV_BACKEND: &str = "127.0.0.1:8080";

/// How long the first build may take. Normally trunk reuses the release build `trunk build
/// --release` just made and only reruns wasm-bindgen (seconds); if the client's sources changed
/// since, it compiles it again with fat LTO, which takes minutes on two cores.
const READY: Duration = Duration::from_secs(600);

pub struct TrunkServe {
    child: Child,
    port: u16,
    log: PathBuf,
    /// The generated config, the dist folder trunk serves from, and the folder it watches.
    _dir: tempfile::TempDir,
}

/// `$TRUNK`, else trunk in cargo's bin folder (where `cargo xtask` installs it), else `trunk`
/// from `PATH`.
fn trunk_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TRUNK") {
        return bin.into();
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    match home.map(|h| h.join("bin/trunk")) {
        Some(bin) if bin.is_file() => bin,
        _ => "trunk".into(),
    }
}

/// `Trunk.toml` with each proxy backend's `127.0.0.1:8080` replaced by `backend`. Fails if a
/// backend names another address (the test could not redirect it).
pub fn config_for(trunk_toml: &str, backend: SocketAddr) -> String {
    let mut proxies = 0;
    let lines: Vec<String> = trunk_toml
        .lines()
        .map(|line| {
            if !line.trim_start().starts_with("backend") {
                return line.to_owned();
            }
            let from = format!("://{DEV_BACKEND}/");
            assert!(
                line.contains(&from),
                "Trunk.toml: the dev-loop test points every proxy at its own server, but this \
                 backend is not on {DEV_BACKEND}: {line}"
            );
            proxies += 1;
            line.replace(&from, &format!("://{backend}/"))
        })
        .collect();
    assert!(proxies > 0, "Trunk.toml has no [[proxy]] backend");
    lines.join("\n") + "\n"
}

impl TrunkServe {
    /// Start `trunk serve --release` with the workspace's `index.html` on a free port, proxying
    /// to `backend`, and wait until it serves the page. Trunk's output goes to `log`.
    pub async fn start(backend: SocketAddr, log: &Path) -> TrunkServe {
        let root = crate::workspace_root();
        let trunk_toml = std::fs::read_to_string(root.join("Trunk.toml"))
            .unwrap_or_else(|e| panic!("read Trunk.toml: {e}"));
        let target = root.join("target");
        std::fs::create_dir_all(&target).expect("target/ folder");
        let dir = tempfile::Builder::new()
            .prefix("devloop-")
            .tempdir_in(&target)
            .expect("a folder for trunk serve under target/");
        let config = dir.path().join("Trunk.toml");
        std::fs::write(&config, config_for(&trunk_toml, backend)).expect("write the config");
        // Watch an empty folder: nothing rebuilds (or reloads the page) mid-test when someone
        // edits the sources meanwhile.
        let watched = dir.path().join("watch");
        std::fs::create_dir_all(&watched).expect("watch folder");

        // Free now; trunk takes it a moment later (a port taken in between fails loudly
        // below rather than silently).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        if let Some(parent) = log.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let out = std::fs::File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out.try_clone().expect("log file handle");
        let bin = trunk_bin();
        let child = Command::new(&bin)
            .arg("serve")
            .arg(root.join("index.html"))
            .arg("--config")
            .arg(&config)
            .arg("--dist")
            .arg(dir.path().join("dist"))
            .arg("--watch")
            .arg(&watched)
            .args([
                "--release",
                "--offline",
                "--no-autoreload",
                "--disable-address-lookup",
                "--color",
                "never",
            ])
            .args(["--port", &port.to_string()])
            .env("TRUNK_SKIP_VERSION_CHECK", "true")
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group, so that the cargo and wasm-bindgen it runs end with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {}: {e} (`cargo xtask tools` installs trunk)",
                    bin.display()
                )
            });
        let mut trunk = TrunkServe {
            child,
            port,
            log: log.to_owned(),
            _dir: dir,
        };
        trunk.wait_ready().await;
        trunk
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where trunk's output goes.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Poll `GET /` until it answers 200 with the built page. A failed build fails at once
    /// (trunk would go on serving an empty folder).
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "trunk serve exited with {status} before serving the page (see {})",
                    self.log.display()
                );
            }
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(at) = log.find(" ERROR ") {
                panic!(
                    "trunk serve's build failed (see {}):\n{}",
                    self.log.display(),
                    &log[log[..at].rfind('\n').map_or(0, |i| i + 1)..]
                );
            }
            let last = get(self.port, "/").await;
            if let Some(page) = &last {
                if page.starts_with("HTTP/1.1 200") && page.contains("tandem-client") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "trunk serve did not serve the built page on port {} within {READY:?} (see {}); \
                 last answer: {last:?}",
                self.port,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for TrunkServe {
    fn drop(&mut self) {
        // The group id is trunk's pid (process_group(0) above).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The whole response to `GET {path}` on `127.0.0.1:{port}`, if there was one within 5 s.
async fn get(port: u16, path: &str) -> Option<String> {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        Some(String::from_utf8_lossy(&response).into_owned())
    };
    timeout(Duration::from_secs(5), exchange)
        .await
        .ok()
        .flatten()
}

/// Open a WebSocket on `ws://127.0.0.1:{port}{path}` and wait for the first bytes the far end
/// sends after the handshake; returns how many came with the first read, or why there were
/// none within `within`. Both of the server's endpoints speak first (`/ws` says `welcome`,
/// `/yjs` sends sync step 1), so bytes prove that a proxy reached the server: trunk answers
/// the upgrade itself before it dials the backend.
pub async fn ws_first_bytes(port: u16, path: &str, within: Duration) -> Result<usize, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect to port {port}: {e}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send the handshake: {e}"))?;
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                let status = head.lines().next().unwrap_or("").to_owned();
                if !status.starts_with("HTTP/1.1 101") {
                    return Err(format!("expected 101 Switching Protocols, got {status:?}"));
                }
                let body = buf.len() - end - 4;
                if body > 0 {
                    return Ok(body);
                }
            }
            match stream.read(&mut chunk).await {
                Ok(0) => {
                    return Err(format!(
                        "closed after {} bytes without a frame from the server",
                        buf.len()
                    ))
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    };
    timeout(within, read)
        .await
        .map_err(|_| format!("no frame from the server within {within:?}"))?
}

#[cfg(test)]
mod tests {
    use super::config_for;

    #[test]
    fn every_proxy_backend_is_pointed_at_the_test_server() {
        let toml = "[serve]\nport = 8081\n\n[[proxy]]\nbackend = \"ws://127.0.0.1:8080/ws\"\n\
                    ws = true\n\n[[proxy]]\nbackend = \"ws://127.0.0.1:8080/yjs\"\n";
        let got = config_for(toml, "127.0.0.1:4567".parse().unwrap());
        assert_eq!(
            got,
            "[serve]\nport = 8081\n\n[[proxy]]\nbackend = \"ws://127.0.0.1:4567/ws\"\n\
             ws = true\n\n[[proxy]]\nbackend = \"ws://127.0.0.1:4567/yjs\"\n"
        );
    }

    #[test]
    #[should_panic(expected = "not on 127.0.0.1:8080")]
    fn a_backend_elsewhere_is_refused() {
        config_for(
            "[[proxy]]\nbackend = \"ws://10.1.2.3:8080/ws\"\n",
            "127.0.0.1:1".parse().unwrap(),
        );
    }
}
