//! Project automation: `cargo xtask run | test | bench | autobahn | tools`, and
//! `strip-wasm`, trunk's post-build hook.
//!
//! Each command first installs what it needs if it is missing (the wasm32 target, the
//! `wasm-bindgen-cli` matching `Cargo.lock`, trunk, Python tools), so both README commands
//! work on a fresh Debian machine with only rustup and cargo.

mod bench;
mod browser;
mod compress;
mod tools;
mod wasm;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

type Result<T = ()> = std::result::Result<T, String>;

pub(crate) const USAGE: &str = "usage: cargo xtask <command>
  run        build the client, start the server on its defaults, print the URL
  test       install what is missing, then run every check and test (what CI runs)
  browser    only the client's browser tests (wasm-bindgen-test, headless Chromium)
  e2e        only the multi-browser end-to-end tests (builds the client and the release
             server first)
  bench [PART] [OPTIONS]
             measure, servers pinned to a core and capped at 0.5 CPU; PART is one of
               fanout   Tandem's room path against uWebSockets.js and a naive actix-ws
                        broadcaster: max deliveries/s with nothing lost and p99 <= 100 ms,
                        deliveries per server CPU-second, latency at half that rate
               memory   server RSS per idle joined connection (10,000 in 100 rooms), fresh
                        and after 3 rounds of all-disconnect/all-reconnect; then how many
                        idle connections one server holds before a limit is hit, and which
               storm    the join storm with 10,000 connections
             (none: all three). OPTIONS: --subscribers N (repeatable; default 1000 and
             10000), --rounds R (default 2), --server-bin PATH (the Tandem binary, e.g.
             another allocator's build; repeatable for memory), --max-secs S (per server
             and subscriber count, default 180), --probe-conns N, --no-build,
             --allocators (memory also with glibc malloc and mimalloc builds)
  bench --cluster [--cluster-rate R]
             one room over 3 cluster nodes against 1 (private Postgres + Redis):
             cross-node p50/p99 at R msg/s (default 200), max deliveries/s, node, Redis
             and Postgres CPU
  autobahn   run the Autobahn|TestSuite cases (kosoku) against /echo
  tools      only install what is missing
  strip-wasm [DIR]
             trunk's post-build hook (Trunk.toml): remove the custom sections of the .wasm
             in DIR (default $TRUNK_STAGING_DIR), fix the page's SRI hash of it, and (for
             release builds) write .br and .gz beside each .wasm, .js and .css";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root).expect("cd to the workspace root");
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("browser") => tools::ensure_all(true).and_then(|()| browser::client_tests()),
        Some("e2e") => tools::ensure_all(true).and_then(|()| e2e()),
        Some("bench") => bench::bench(&args[1..]),
        Some("autobahn") => tools::ensure_all(false).and_then(|()| autobahn()),
        Some("tools") => tools::ensure_all(false),
        Some("strip-wasm") => wasm::strip_wasm(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

/// Run a command to completion, failing with its description if it does not succeed.
pub(crate) fn sh(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    println!("\n$ {shown}");
    let status = cmd.status().map_err(|e| format!("{shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn build_client() -> Result {
    // Trunk builds with `cargo --offline` (Trunk.toml): fetch the client's crates first.
    sh(cargo().args(["fetch", "--locked"]))?;
    sh(Command::new(tools::trunk())
        .args(["build", "--release"])
        .env("TRUNK_SKIP_VERSION_CHECK", "true"))
}

fn run(extra: &[String]) -> Result {
    tools::ensure_all(false)?;
    build_client()?;
    println!("\nStarting the server (Ctrl-C to stop); data in ./data, client from ./dist");
    sh(cargo()
        .args(["run", "--release", "-p", "tandem-server", "--"])
        .args(extra))
}

fn test() -> Result {
    let started = Instant::now();
    tools::ensure_all(true)?;
    sh(cargo().args(["fmt", "--all", "--", "--check"]))?;
    sh(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    sh(cargo().args([
        "clippy",
        "-p",
        "tandem-client",
        "--target",
        "wasm32-unknown-unknown",
        // With the browser tests (they are empty on the host).
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    sh(cargo().args([
        "build",
        "-p",
        "tandem-shared",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    build_client()?;
    sh(cargo().args(["test", "--workspace", "--exclude", "tandem-e2e"]))?;
    build_server()?;
    bench::storm(5_000, Path::new(SERVER_BIN))?;
    browser::client_tests()?;
    // The e2e suite drives the client trunk built above (dist/).
    e2e_tests()?;
    autobahn()?;
    api_conformance()?;
    println!(
        "\nxtask test: every check passed in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

fn e2e() -> Result {
    build_client()?;
    // The cluster scenario runs node processes of the release server.
    build_server()?;
    e2e_tests()
}

/// The multi-browser suite (`e2e/`): needs `dist/` built and chromedriver installed; its
/// dev-loop test (`e2e/tests/devloop.rs`) also runs `trunk serve`.
fn e2e_tests() -> Result {
    sh(cargo()
        .args(["test", "-p", "tandem-e2e"])
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env("TRUNK", tools::trunk()))
}

/// A release server started for a check, stopped (SIGTERM, then waited for) on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
}

/// The release server.
pub(crate) const SERVER_BIN: &str = "target/release/tandem-server";

/// The release server, the load generator and the bench's actix-ws baseline, in one build
/// (one feature set: none rebuilds the others' dependencies).
pub(crate) fn build_server() -> Result {
    sh(cargo().args([
        "build",
        "--release",
        "-p",
        "tandem-server",
        "-p",
        "tandem-loadgen",
        "-p",
        "tandem-baseline",
    ]))
}

impl Server {
    /// Build the release server and start it on a free port.
    pub(crate) fn start(args: &[&str]) -> Result<Server> {
        build_server()?;
        Server::spawn("127.0.0.1:0", args)
    }

    /// Start the already built release server on `listen` (`HOST:PORT`).
    pub(crate) fn spawn<S: AsRef<std::ffi::OsStr>>(listen: &str, args: &[S]) -> Result<Server> {
        let mut cmd = Command::new(SERVER_BIN);
        cmd.args(["--listen", listen]).args(args).env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        );
        Server::launch(&mut cmd, SERVER_BIN)
    }

    /// Start a server (`what`, for errors) that prints its URL (`…://HOST:PORT/…`) as the
    /// first line on stdout.
    pub(crate) fn launch(cmd: &mut Command, what: &str) -> Result<Server> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{what}: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let addr = line
            .trim()
            .rsplit("://")
            .next()
            .map(|s| s.split('/').next().unwrap_or(s).to_owned())
            .filter(|s| !s.is_empty() && line.contains("://"))
            .ok_or_else(|| format!("{what} did not print its URL: {line:?}"))?;
        Ok(Server { child, addr })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Graceful stop; returns whether the server exited successfully within 10 s.
    pub(crate) fn stop(mut self) -> Result {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("server exited with {status}"))
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("server did not stop within 10 s of SIGTERM".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Autobahn|TestSuite via kosoku against `/echo`: every case must pass, except the
/// compression cases (12.x, 13.x), which must be "unimplemented" since the server does not
/// offer permessage-deflate.
fn autobahn() -> Result {
    let dir = tempdir("autobahn")?;
    let server = Server::start(&["--echo", "--data-dir", &dir.join("data").to_string_lossy()])?;
    let out = Path::new("target/autobahn");
    let _ = std::fs::remove_dir_all(out);
    let url = format!("ws://{}/echo", server.addr);
    // kosoku exits non-zero when any case is not OK, the unimplemented compression cases
    // included: the reports are judged below instead.
    let _ = sh(Command::new(tools::kosoku())
        .args(["-m", "fuzzingclient", "-p", "2", "-o"])
        .arg(out)
        .arg(&url));
    server.stop()?;
    tools::judge_autobahn(out)
}

/// The HTTP API against its OpenAPI document (`/api/openapi.json`), by schemathesis: every
/// check, its examples, coverage, fuzzing and stateful phases; fixed seeds, so a failure
/// reproduces (`--seed`). Any failure fails the test command.
fn api_conformance() -> Result {
    const KEY: &str = "schemathesis-key-0123456789";
    let dir = tempdir("schemathesis")?;
    let data = dir.join("data").to_string_lossy().into_owned();
    let args = [
        "--data-dir",
        &data,
        "--api-key",
        KEY,
        "--api-rate-per-sec",
        "0",
    ];
    let server = Server::start(&args)?;
    let schema = format!("http://{}/api/openapi.json", server.addr);
    let auth = format!("Authorization: Bearer {KEY}");
    for seed in ["1", "2"] {
        sh(Command::new(tools::schemathesis())
            .args(["run", &schema, "-H", &auth, "--checks", "all"])
            .args(["--max-examples", "50", "--seed", seed, "--workers", "2"]))?;
    }
    server.stop()
}

pub(crate) fn tempdir(what: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tandem-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}
