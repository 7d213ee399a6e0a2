//! `cargo xtask bench [fanout|memory|storm] [OPTIONS]` and `cargo xtask bench --cluster`:
//! the measurements of README's "Tests and benchmarks". Servers run pinned to core 1
//! (`taskset`), and for fan-out in a cgroup capped at 0.5 CPU (`launch.rs`); the load
//! generator (`tandem-loadgen`) runs on core 0 and prints a `…-RESULT {json}` line that the
//! tables here are made from. `fanout.rs`: Tandem
//! against the baselines, rounds in rotated order, ratios per round. `memory.rs`: RSS per idle
//! connection, and the limit probe. `cluster.rs` (`--cluster`): one room over 3 cluster
//! nodes against 1 node, on a private Postgres and Redis; `cluster_report.rs` its tables.

mod cluster;
mod cluster_report;
mod fanout;
mod launch;
mod memory;

use crate::{build_server, sh, tempdir, Result, Server, SERVER_BIN};
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

pub(crate) const LOADGEN: &str = "target/release/tandem-loadgen";

/// What `cargo xtask bench` was asked for.
struct Opts {
    subscribers: Vec<usize>,
    rounds: usize,
    /// Tandem binaries to measure (fan-out measures the first).
    server_bins: Vec<PathBuf>,
    max_secs: u64,
    probe_conns: Option<usize>,
    build: bool,
    /// Also build the server with glibc's malloc and with mimalloc (jemalloc is its
    /// default), and measure memory with each.
    allocators: bool,
    /// `--cluster`: the cluster bench instead of the parts.
    cluster: bool,
    /// The cluster bench's fixed rate, messages a second into the room.
    cluster_rate: f64,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Opts> {
        let mut o = Opts {
            subscribers: Vec::new(),
            rounds: 2,
            server_bins: Vec::new(),
            max_secs: 180,
            probe_conns: None,
            build: true,
            allocators: false,
            cluster: false,
            cluster_rate: 200.0,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = |what: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs {what}"))
            };
            let number = |v: String| {
                v.replace(['_', ','], "")
                    .parse::<u64>()
                    .map_err(|e| format!("{flag} {v}: {e}"))
            };
            match flag.as_str() {
                "--subscribers" => o.subscribers.push(number(value("a count")?)? as usize),
                "--rounds" => o.rounds = number(value("a count")?)?.max(1) as usize,
                "--server-bin" => o.server_bins.push(value("a path")?.into()),
                "--max-secs" => o.max_secs = number(value("seconds")?)?,
                "--probe-conns" => o.probe_conns = Some(number(value("a count")?)? as usize),
                "--no-build" => o.build = false,
                "--allocators" => o.allocators = true,
                "--cluster" => o.cluster = true,
                "--cluster-rate" => {
                    let v = value("messages a second")?;
                    o.cluster_rate = v
                        .parse::<f64>()
                        .ok()
                        .filter(|r| r.is_finite() && *r > 0.0)
                        .ok_or_else(|| format!("{flag} {v}: a positive number"))?;
                }
                other => return Err(format!("bench: unknown option {other}\n{}", crate::USAGE)),
            }
        }
        if o.subscribers.is_empty() {
            o.subscribers = if o.cluster {
                vec![300]
            } else {
                vec![1_000, 10_000]
            };
        }
        if o.server_bins.is_empty() {
            o.server_bins.push(SERVER_BIN.into());
        }
        Ok(o)
    }

    fn build(&mut self) -> Result {
        if self.allocators {
            // Each variant in turn in target/release, copied out; the default build last, so
            // that target/release holds it afterwards.
            let dir = Path::new("target/bench");
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let variants: [(&str, &[&str]); 2] = [
                ("glibc", &["--no-default-features"]),
                (
                    "mimalloc",
                    &["--no-default-features", "--features", "mimalloc"],
                ),
            ];
            for (allocator, features) in variants {
                sh(crate::cargo()
                    .args(["build", "--release", "-p", "tandem-server"])
                    .args(features))?;
                let copy = dir.join(format!("tandem-server-{allocator}"));
                std::fs::copy(SERVER_BIN, &copy).map_err(|e| format!("{}: {e}", copy.display()))?;
                self.server_bins.push(copy);
            }
        }
        if self.build || self.allocators {
            build_server()
        } else {
            Ok(())
        }
    }
}

pub(crate) fn bench(args: &[String]) -> Result {
    let (part, rest) = match args.first().map(String::as_str) {
        Some(p @ ("fanout" | "memory" | "storm" | "all")) => (p, &args[1..]),
        _ => ("all", args),
    };
    let mut o = Opts::parse(rest)?;
    if o.cluster && part != "all" {
        return Err(format!(
            "bench: --cluster is a measurement of its own, not of {part}"
        ));
    }
    o.build()?;
    if o.cluster {
        return cluster::run(&o);
    }
    match part {
        "fanout" => fanout::run(&o),
        "memory" => memory::run(&o),
        "storm" => storm(10_000, &o.server_bins[0]),
        _ => {
            storm(10_000, &o.server_bins[0])?;
            fanout::run(&o)?;
            memory::run(&o)
        }
    }
}

/// `program` pinned to `core` with taskset.
fn pinned(core: u32, program: &str) -> Command {
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", &core.to_string(), program]);
    cmd
}

/// Run a generator, echoing what it prints, and return the JSON of its `marker` line.
fn generator(cmd: &mut Command, marker: &str) -> Result<serde_json::Value> {
    let shown = format!("{cmd:?}");
    println!("\n$ {shown}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown}: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let found = read_result(BufReader::new(stdout), marker);
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{shown} failed ({status})"));
    }
    found.ok_or_else(|| format!("{shown} printed no {marker} line"))
}

/// Echo lines until the `marker {json}` line; returns its JSON.
fn read_result(reader: impl BufRead, marker: &str) -> Option<serde_json::Value> {
    for line in reader.lines() {
        let line = line.ok()?;
        match line.strip_prefix(marker) {
            Some(json) => return serde_json::from_str(json.trim()).ok(),
            None => println!("{line}"),
        }
    }
    None
}

/// How busy the machine is (the 1-minute load average), to print beside figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Join storms on the default configuration (but for the per-address cap: every
/// connection comes from 127.0.0.1), server and clients in separate release processes:
/// `members` join one room, then all reconnect at once (`loadgen/src/storm.rs`).
pub(crate) fn storm(members: usize, bin: &Path) -> Result {
    let dir = tempdir("storm")?;
    let data = dir.join("data");
    let mut cmd = Command::new(bin);
    cmd.args(["--listen", "127.0.0.1:0", "--max-conns-per-addr", "0"])
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_LOG", "warn");
    let server = Server::launch(&mut cmd, &bin.display().to_string())?;
    let res = sh(Command::new(LOADGEN)
        .args(["storm", "--url", &format!("ws://{}/ws", server.addr)])
        .args(["--server-pid", &server.pid().to_string()])
        .args(["--members", &members.to_string()]));
    let stopped = server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    res.and(stopped)
}
