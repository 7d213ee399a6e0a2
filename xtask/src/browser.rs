//! The client's browser tests (`client/tests/`, wasm-bindgen-test in headless Chromium), with
//! the server they talk to and a control endpoint that restarts it.
//!
//! The tests learn both URLs at compile time: `TANDEM_TEST_WS` (the server's `/ws`) and
//! `TANDEM_TEST_CONTROL`, a tiny HTTP server on a thread here whose `POST /restart` stops the
//! server with SIGTERM, waits for it to exit, starts it again on the same port and data
//! directory, and answers 200 once `/healthz` does. The browser page lives on the test
//! runner's origin, so the control server answers CORS (preflight included).

use crate::{build_server, cargo, sh, tempdir, tools, Result, Server};
use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, PoisonError,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// Run `cargo test -p tandem-client --target wasm32-unknown-unknown` against a fresh release
/// server in a temporary data directory.
pub(crate) fn client_tests() -> Result {
    let dir = tempdir("browser")?;
    let args = vec![
        "--data-dir".to_owned(),
        dir.join("data").to_string_lossy().into_owned(),
    ];
    build_server()?;
    let server = Server::spawn("127.0.0.1:0", &args)?;
    wait_healthy(&server.addr)?;
    let ws = format!("ws://{}/ws", server.addr);
    let control = Control::start(server, args)?;
    let result = sh(cargo()
        .args([
            "test",
            "-p",
            "tandem-client",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        // The runner .cargo/config.toml names, by full path: ~/.cargo/bin may not be on PATH.
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            tools::cargo_bin("wasm-bindgen-test-runner"),
        )
        // The runner's limit is for the whole suite (20 s by default); a restart is in it.
        .env("WASM_BINDGEN_TEST_TIMEOUT", "180")
        .env("TANDEM_TEST_WS", ws)
        .env("TANDEM_TEST_CONTROL", &control.url));
    let stopped = control.stop();
    let _ = std::fs::remove_dir_all(&dir);
    result.and(stopped)
}

/// Wait until `GET http://{addr}/healthz` answers 200.
pub(crate) fn wait_healthy(addr: &str) -> Result {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if healthz(addr).is_some_and(|status| status.starts_with("HTTP/1.1 200")) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "http://{addr}/healthz did not answer 200 within 15 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The status line of `GET /healthz`, if the server answered at all.
fn healthz(addr: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_owned)
}

/// The control server: one thread, one request at a time (the tests restart sequentially).
struct Control {
    url: String,
    addr: std::net::SocketAddr,
    /// Set before the wake-up connection that ends the accept loop.
    stopping: Arc<AtomicBool>,
    thread: JoinHandle<()>,
    /// The running server. A std `Mutex`: only the control thread and `stop` touch it, never
    /// at the same time in practice, and nothing here is async.
    server: Arc<Mutex<Option<Server>>>,
}

impl Control {
    fn start(server: Server, args: Vec<String>) -> Result<Control> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("control: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("control: {e}"))?;
        let server = Arc::new(Mutex::new(Some(server)));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (server, stopping) = (server.clone(), stopping.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        handle(stream, &server, &args);
                    }
                }
            })
        };
        Ok(Control {
            url: format!("http://{addr}"),
            addr,
            stopping,
            thread,
            server,
        })
    }

    /// End the accept loop, then stop the server (gracefully; an error if it did not exit 0).
    fn stop(self) -> Result {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        let _ = self.thread.join();
        let server = self
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match server {
            Some(server) => server.stop(),
            None => Err("control: the server was not running at the end (a restart failed)".into()),
        }
    }
}

fn handle(mut stream: TcpStream, server: &Mutex<Option<Server>>, args: &[String]) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request_line) = read_request(&mut stream) else {
        return;
    };
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body) = match (method, path) {
        ("OPTIONS", _) => ("204 No Content", String::new()),
        ("POST", "/restart") => match restart(server, args) {
            Ok(addr) => ("200 OK", format!("restarted on {addr}\n")),
            Err(e) => {
                eprintln!("control: restart failed: {e}");
                ("500 Internal Server Error", format!("{e}\n"))
            }
        },
        _ => (
            "404 Not Found",
            "POST /restart is all there is\n".to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Access-Control-Allow-Methods: POST, OPTIONS\r\n\
         Access-Control-Allow-Headers: *\r\n\
         Access-Control-Max-Age: 600\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// Read the request head (and a small body, if any); return the request line.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 16 * 1024 {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    // Drain the body so that closing the socket does not reset the reply.
    let mut remaining = length.min(64 * 1024).saturating_sub(buf.len() - head_end);
    while remaining > 0 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => remaining = remaining.saturating_sub(n),
        }
    }
    head.lines().next().map(str::to_owned)
}

/// SIGTERM the server, wait for it to exit, start it on the same port and data directory,
/// and wait for `/healthz`.
fn restart(server: &Mutex<Option<Server>>, args: &[String]) -> Result<String> {
    let mut slot = server.lock().unwrap_or_else(PoisonError::into_inner);
    let old = slot.take().ok_or("the server is not running")?;
    let addr = old.addr.clone();
    println!("control: restarting the server on {addr}");
    old.stop()?;
    // The port is free once the process is gone (std listeners set SO_REUSEADDR), but allow
    // for a slow release.
    let deadline = Instant::now() + Duration::from_secs(10);
    let new = loop {
        match Server::spawn(&addr, args) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    if new.addr != addr {
        return Err(format!("restarted on {} instead of {addr}", new.addr));
    }
    wait_healthy(&addr)?;
    *slot = Some(new);
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Send `request` to a control handler with no server behind it; return the response.
    fn exchange(request: &str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            handle(stream, &Mutex::new(None), &[]);
        });
        let mut client = TcpStream::connect(addr).unwrap();
        client.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).unwrap();
        handler.join().unwrap();
        response
    }

    #[test]
    fn preflight_is_answered_with_cors() {
        let r = exchange(
            "OPTIONS /restart HTTP/1.1\r\nHost: x\r\nOrigin: http://127.0.0.1:1\r\n\
             Access-Control-Request-Method: POST\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 204 "), "{r}");
        assert!(r.contains("Access-Control-Allow-Origin: *\r\n"), "{r}");
        assert!(
            r.contains("Access-Control-Allow-Methods: POST, OPTIONS\r\n"),
            "{r}"
        );
    }

    #[test]
    fn a_failed_restart_is_a_500_with_the_reason() {
        let r = exchange("POST /restart HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        assert!(r.starts_with("HTTP/1.1 500 "), "{r}");
        assert!(r.contains("Access-Control-Allow-Origin: *\r\n"), "{r}");
        assert!(r.ends_with("the server is not running\n"), "{r}");
    }

    #[test]
    fn other_paths_are_404() {
        let r = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
    }
}
