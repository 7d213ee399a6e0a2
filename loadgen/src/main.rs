//! `tandem-loadgen`: drives a server over real WebSockets on loopback, bounded in count and
//! time, and prints what it measured (a last `…-RESULT {json}` line for `cargo xtask bench`):
//!
//! - `fanout` (`fanout.rs`): subscribers and publishers in one room, open-loop steps of a
//!   fixed rate searched upward, speaking Tandem's protocol or raw broadcast (baselines);
//! - `memory` and `hold` (`memory.rs`): the server's RSS per idle joined connection, fresh
//!   and after rounds of all-disconnect/all-reconnect; connections held until a limit is hit;
//! - `storm` (`storm.rs`): a join storm, then a reconnect storm (`cargo xtask test`).

mod fanout;
mod memory;
mod storm;
mod wire;

use clap::{Parser, Subcommand};
use std::{sync::OnceLock, time::Duration};
use tandem_shared::{ClientMsg, ServerMsg, PROTOCOL_VERSION};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wire::RawWs;

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Parser, Debug)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Fan-out in one room: the highest rate with nothing lost, nobody closed and p99 within
    /// the limit, the server's CPU per delivery, and latency at half that rate.
    Fanout(fanout::Args),
    /// Server RSS per idle connection joined to a room: fresh, then after reconnect rounds.
    Memory(memory::Args),
    /// Open idle joined connections until the first failure (or all are open), report it,
    /// and hold them until stdin closes: one of the processes of the limit probe.
    Hold(memory::HoldArgs),
    /// A join storm into one room, then a reconnect storm; exits non-zero unless both hold.
    Storm(StormArgs),
}

#[derive(clap::Args, Debug)]
struct StormArgs {
    /// The server's room endpoint (`ws://HOST:PORT/ws`).
    #[arg(long)]
    url: String,
    /// The server's PID, to read its memory (VmRSS) from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Connections that join the room.
    #[arg(long, default_value_t = 5_000)]
    members: usize,
    /// Joins a second in the first storm (0: all at once); 5,000 within 5 s by default.
    #[arg(long, default_value_t = 1_250)]
    rate: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Clock ticks a second, the unit of /proc's CPU times (`getconf CLK_TCK`, else 100).
fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// CPU seconds process `pid` has used, all its threads, user and system
/// (`utime` + `stime` of /proc/PID/stat).
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (which may hold spaces) in parentheses: field 3 onwards.
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// The `p` quantile of sorted microseconds, in milliseconds.
fn quantile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

fn encode(msg: &ClientMsg) -> Vec<u8> {
    // unwrap: ClientMsg is plain data; serializing it cannot fail.
    serde_json::to_vec(msg).expect("encode")
}

/// Connect to Tandem's `/ws`, say `hello`, join `room` and read until `joined`.
async fn join_tandem(url: &str, room: &str, name: &str, buf: usize) -> wire::Result<RawWs> {
    let mut ws = RawWs::connect(url, buf).await?;
    ws.push_text(&encode(&ClientMsg::Hello {
        protocol_version: PROTOCOL_VERSION,
        token: None,
        jwt: None,
    }));
    ws.push_text(&encode(&ClientMsg::Join {
        room: room.into(),
        name: name.into(),
        since: None,
        invite: None,
    }));
    ws.flush().await?;
    let mut outcome = None;
    while outcome.is_none() {
        ws.pump(|t| match serde_json::from_slice::<ServerMsg>(t) {
            Ok(ServerMsg::Joined { room: r, .. }) if r == room => outcome = Some(Ok(())),
            Ok(ServerMsg::Error { code, message, .. }) => {
                outcome = Some(Err(format!("join: {code:?}: {message}")))
            }
            _ => {}
        })
        .await?;
    }
    match outcome {
        Some(Err(e)) => Err(wire::Error::Refused(e)),
        _ => Ok(ws),
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let (limit, what) = match &cli.cmd {
        Cmd::Fanout(a) => (a.max_secs + 60, "fan-out"),
        Cmd::Memory(a) => (a.timeout_secs, "memory"),
        Cmd::Hold(a) => (a.timeout_secs + a.hold_secs, "hold"),
        Cmd::Storm(a) => (a.timeout_secs, "storm"),
    };
    let limit = Duration::from_secs(limit);
    let work = async {
        match cli.cmd {
            Cmd::Fanout(a) => fanout::run(a).await,
            Cmd::Memory(a) => memory::run(a).await,
            Cmd::Hold(a) => memory::hold(a).await,
            Cmd::Storm(a) => storm::run(&a.url, a.server_pid, a.members, a.rate).await,
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("loadgen: {what} failed: {e}");
            std::process::exit(1);
        }
        Err(_) => {
            eprintln!("loadgen: {what} gave up after {limit:?}");
            std::process::exit(1);
        }
    }
}
