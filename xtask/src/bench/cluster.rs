//! `cargo xtask bench --cluster`: one room spread over 3 nodes against the same load on 1
//! node (also with `--postgres` and `--redis`, so only the spreading differs). One private
//! Postgres and Redis (`testbed`) serve the whole run; per round, in an order rotated by one,
//! each configuration gets fresh nodes, a fresh database and fresh rooms, and two generators:
//! one step at `--cluster-rate` (latency, publishers on the first node and subscribers on the
//! others, so every delivery measured crossed nodes) and the rate search (max deliveries/s).
//! Nodes, Redis and Postgres run on `SERVER_CORE`, the nodes of a configuration together in
//! one cgroup capped at 0.5 CPU; the generator on `GENERATOR_CORE`. Tables: `cluster_report.rs`.

use super::cluster_report::{self, Outcome};
use super::launch::{command_in, log_file, Quota, GENERATOR_CORE, NO_CLIENT_LIMITS, SERVER_CORE};
use super::{generator, load_average, pinned, Opts, LOADGEN};
use crate::{tempdir, Result, Server};
use std::{
    ffi::OsString,
    fs,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// The configurations compared: this many nodes.
pub(super) const CONFIGS: [usize; 2] = [1, 3];
/// Seconds of sending in the fixed-rate step (the search's steps are 3 s).
pub(super) const FIXED_STEP_SECS: u32 = 5;
/// The p99 a passing step of the search may have, in ms.
pub(super) const SEARCH_P99_MS: u32 = 100;

/// The private Postgres and Redis every configuration uses, pinned to `SERVER_CORE`.
struct Backing {
    pg: testbed::Postgres,
    redis: testbed::Redis,
}

impl Backing {
    fn start() -> Result<Backing> {
        let pg = testbed::Postgres::start().map_err(|e| format!("postgres: {e}"))?;
        let redis = testbed::Redis::start().map_err(|e| format!("redis: {e}"))?;
        let backing = Backing { pg, redis };
        let (pg, redis) = backing.pids()?;
        // Postgres forks a backend per connection: pinning the postmaster pins those to
        // come; the processes it has already forked are pinned one by one.
        for pid in std::iter::once(pg).chain(descendants(pg)).chain([redis]) {
            pin(pid)?;
        }
        println!(
            "postgres {} (postmaster pid {pg}), redis {} (pid {redis}): pinned to core {SERVER_CORE}",
            backing.pg.url(),
            backing.redis.url()
        );
        Ok(backing)
    }

    /// The postmaster's and Redis's PIDs.
    fn pids(&self) -> Result<(u32, u32)> {
        let pg = self.pg.pid().ok_or("postgres is not running")?;
        let redis = self.redis.pid().ok_or("redis is not running")?;
        Ok((pg, redis))
    }
}

/// `taskset` every thread of `pid` (a process we started) to `SERVER_CORE`.
fn pin(pid: u32) -> Result {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &SERVER_CORE.to_string(), &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("taskset: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "taskset -a -p -c {SERVER_CORE} {pid} failed ({status})"
        ))
    }
}

/// Every live process descended from `root` (parent links in /proc/*/stat).
fn descendants(root: u32) -> Vec<u32> {
    let parent_of = |pid: u32| {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(") ")?
            .1
            .split_whitespace()
            .nth(1)?
            .parse::<u32>()
            .ok()
    };
    let links: Vec<(u32, u32)> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect();
    let mut found = Vec::new();
    let mut todo = vec![root];
    while let Some(parent) = todo.pop() {
        for &(pid, _) in links.iter().filter(|(_, p)| *p == parent) {
            found.push(pid);
            todo.push(pid);
        }
    }
    found
}

/// A free 127.0.0.1 port now (the OS picks it; released at once, so a node can bind it).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("a free port: {e}"))?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Wait (at most 30 s) until `GET /healthz` on `addr` answers 200.
fn healthy(addr: &str) -> Result {
    let deadline = Instant::now() + Duration::from_secs(30);
    let ask = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    while Instant::now() < deadline {
        let mut answer = Vec::new();
        let answered = TcpStream::connect(addr).and_then(|mut tcp| {
            tcp.set_read_timeout(Some(Duration::from_secs(2)))?;
            tcp.write_all(ask.as_bytes())?;
            tcp.read_to_end(&mut answer)
        });
        if answered.is_ok() && answer.starts_with(b"HTTP/1.1 200") {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{addr}: /healthz did not answer 200 within 30 s"))
}

/// One configuration's nodes, pinned to `SERVER_CORE`, all in one 0.5-CPU cgroup (when one
/// can be made). Fields drop in order: the nodes, then the cgroup.
struct Nodes {
    servers: Vec<Server>,
    quota: Option<Quota>,
    dir: PathBuf,
    logs: Vec<PathBuf>,
}

impl Nodes {
    /// Start `n` nodes on the database `db_url`, each told every node's URL, their logs
    /// `target/bench/cluster-r<round>-<n>n-node<i>.log`.
    fn start(n: usize, round: usize, db_url: &str, backing: &Backing, bin: &Path) -> Result<Nodes> {
        let name = format!("cluster-{n}n");
        let logs = format!("cluster-r{}-{n}n", round + 1);
        let quota = match Quota::create(&name) {
            Ok(q) => Some(q),
            Err(why) => {
                println!("\n!!! NO CPU QUOTA for {name}: {why}\n!!! figures below are UNQUOTED");
                None
            }
        };
        let dir = tempdir(&format!("bench-{name}"))?;
        let ports = (0..n).map(|_| free_port()).collect::<Result<Vec<u16>>>()?;
        let urls: Vec<String> = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let mut nodes = Nodes {
            servers: Vec::new(),
            quota,
            dir,
            logs: Vec::new(),
        };
        for (i, port) in ports.iter().enumerate() {
            let mut argv: Vec<OsString> = vec![
                "taskset".into(),
                "-c".into(),
                SERVER_CORE.to_string().into(),
                bin.into(),
                "--listen".into(),
                format!("127.0.0.1:{port}").into(),
            ];
            argv.extend(NO_CLIENT_LIMITS.iter().map(OsString::from));
            argv.extend([
                "--data-dir".into(),
                nodes.dir.join(format!("node{i}")).into(),
            ]);
            argv.extend(["--secret-file".into(), nodes.dir.join("secret.key").into()]);
            for (flag, value) in [
                ("--postgres", db_url.to_owned()),
                ("--redis", backing.redis.url()),
                ("--node-url", urls.join(",")),
            ] {
                argv.extend([flag.into(), value.into()]);
            }
            let mut cmd = command_in(nodes.quota.as_ref(), &argv);
            let (log, file) = log_file(&format!("{logs}-node{}", i + 1))?;
            cmd.env("RUST_LOG", "warn").stderr(file);
            nodes.logs.push(log);
            nodes
                .servers
                .push(Server::launch(&mut cmd, &format!("{name} node {}", i + 1))?);
        }
        // A node prints its URL once it listens, before it has connected to Postgres and
        // Redis; `/healthz` answers once it serves.
        for server in &nodes.servers {
            healthy(&server.addr)?;
        }
        Ok(nodes)
    }

    fn ws_urls(&self) -> String {
        let urls: Vec<String> = self
            .servers
            .iter()
            .map(|s| format!("ws://{}/ws", s.addr))
            .collect();
        urls.join(",")
    }

    fn pids(&self) -> String {
        let pids: Vec<String> = self.servers.iter().map(|s| s.pid().to_string()).collect();
        pids.join(",")
    }

    /// Lines the nodes wrote to their logs (but for the notice that there is no built
    /// client to serve, which the bench does not need).
    fn log_lines(&self) -> usize {
        let lines = |log: &PathBuf| {
            let text = fs::read_to_string(log).unwrap_or_default();
            text.lines()
                .filter(|l| !l.contains("no built client"))
                .count()
        };
        self.logs.iter().map(lines).sum()
    }

    /// Stop every node (each by its PID); remove the cgroup and the data.
    fn stop(self) -> Result {
        let Nodes {
            servers,
            quota,
            dir,
            logs: _,
        } = self;
        let mut errors = Vec::new();
        for (i, server) in servers.into_iter().enumerate() {
            if let Err(e) = server.stop() {
                errors.push(format!("node {}: {e}", i + 1));
            }
        }
        drop(quota);
        let _ = fs::remove_dir_all(dir);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

pub(super) fn run(o: &Opts) -> Result {
    println!(
        "\ncluster bench: nodes, Redis and Postgres pinned to core {SERVER_CORE} (taskset), the \
         generator to core {GENERATOR_CORE}; a configuration's nodes share one cgroup capped at \
         0.5 CPU (the same quota for 1 node and for 3); Redis and Postgres are outside it"
    );
    let backing = Backing::start()?;
    let mut rounds = Vec::new();
    for &subs in &o.subscribers {
        for round in 0..o.rounds {
            let mut order = CONFIGS;
            order.rotate_left(round % CONFIGS.len());
            let outcomes: Vec<Outcome> = order
                .iter()
                .map(|&n| measure(n, subs, round, o, &backing))
                .collect();
            cluster_report::table(subs, round, o, &outcomes);
            rounds.push((subs, round, outcomes));
        }
    }
    cluster_report::summary(o, &rounds);
    Ok(())
}

fn measure(n: usize, subs: usize, round: usize, o: &Opts, backing: &Backing) -> Outcome {
    let mut outcome = Outcome::new(n, round, load_average());
    let db = format!("bench_s{subs}_r{}_{n}n", round + 1);
    let started = backing
        .pg
        .create_database(&db)
        .map_err(|e| format!("create database {db}: {e}"))
        .and_then(|url| Nodes::start(n, round, &url, backing, &o.server_bins[0]))
        .and_then(|nodes| Ok((nodes, backing.pids()?)));
    let (nodes, (pg, redis)) = match started {
        Ok(s) => s,
        Err(e) => {
            outcome.fixed = Err(e.clone());
            outcome.search = Err(e);
            return outcome;
        }
    };
    let fanout = |room: &str| {
        let mut cmd = pinned(GENERATOR_CORE, LOADGEN);
        cmd.args(["fanout", "--protocol", "tandem", "--url", &nodes.ws_urls()])
            .args(["--subscribers", &subs.to_string()])
            .args(["--server-pid", &nodes.pids()])
            .args(["--aux-pid", &format!("redis={redis}")])
            .args(["--aux-pid", &format!("postgres={pg}")])
            .args(["--max-secs", &o.max_secs.to_string()])
            .args(["--room", room]);
        cmd
    };
    let mut fixed = fanout(&format!("cluster-fixed-{n}n"));
    fixed
        .args(["--fixed-rate", &o.cluster_rate.to_string()])
        .args(["--step-secs", &FIXED_STEP_SECS.to_string()]);
    outcome.fixed = generator(&mut fixed, "FANOUT-RESULT");
    let mut search = fanout(&format!("cluster-search-{n}n"));
    search.args(["--p99-ms", &SEARCH_P99_MS.to_string()]);
    outcome.search = generator(&mut search, "FANOUT-RESULT");
    outcome.quota = nodes.quota.is_some();
    outcome.throttled = nodes.quota.as_ref().and_then(Quota::throttled);
    outcome.log_lines = nodes.log_lines();
    if let Err(e) = nodes.stop() {
        println!("{n} node(s): {e}");
    }
    outcome
}
