//! Idle connections. `memory`: the server's RSS before any connection, with `conns` idle
//! connections joined to `rooms` rooms (`hello` + `join`, then only answering pings), and
//! after each of `rounds` rounds of all-disconnect/all-reconnect; reported per connection
//! over the RSS before. `hold`: open idle joined connections until the first one fails (or
//! all are open), say how many are held and what the failure was, and hold them until
//! stdin closes, so that several processes together can pass one process's open-files
//! limit and `cargo xtask bench` can look at the server meanwhile.

use crate::{join_tandem, rss_kib, wire::Error};
use futures_util::{stream, StreamExt};
use serde_json::json;
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering::Relaxed},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio::{io::AsyncReadExt, sync::watch, task::JoinHandle};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Tandem's room endpoint (`ws://HOST:PORT/ws`).
    #[arg(long)]
    url: String,
    /// The server's PID, to read its VmRSS.
    #[arg(long)]
    server_pid: u32,
    #[arg(long, default_value_t = 10_000)]
    conns: usize,
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Rounds of all-disconnect/all-reconnect after the fresh measurement.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// How long to let the server settle before reading its RSS, in ms.
    #[arg(long, default_value_t = 2_000)]
    settle_ms: u64,
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
}

#[derive(clap::Args, Debug)]
pub struct HoldArgs {
    #[arg(long)]
    url: String,
    /// Connections to try.
    #[arg(long)]
    conns: usize,
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Names start at this number (several processes, distinct names).
    #[arg(long, default_value_t = 0)]
    first: usize,
    /// A connection not joined within this many seconds has failed.
    #[arg(long, default_value_t = 5)]
    handshake_secs: u64,
    /// Give up opening after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout_secs: u64,
    /// Hold at most this long after reporting (or until stdin closes).
    #[arg(long, default_value_t = 120)]
    pub hold_secs: u64,
}

/// Connections being set up at once.
const IN_FLIGHT: usize = 64;

/// The held connections: each task answers pings until told to close (or the server
/// closes it, counted in `lost`).
struct Held {
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    lost: Arc<AtomicUsize>,
}

impl Held {
    fn new() -> Held {
        Held {
            tasks: Vec::new(),
            stop: watch::channel(false).0,
            lost: Arc::default(),
        }
    }

    fn hold(&mut self, mut ws: crate::wire::RawWs) {
        let mut stop = self.stop.subscribe();
        let lost = self.lost.clone();
        self.tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => return ws.close().await,
                    read = ws.read_some() => {
                        if read.and_then(|()| ws.frames(|_| {})).is_err() || ws.flush().await.is_err() {
                            lost.fetch_add(1, Relaxed);
                            return;
                        }
                    }
                }
            }
        }));
    }

    /// Close every connection (a close frame each) and wait for all.
    async fn close_all(self) -> usize {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.lost.load(Relaxed)
    }
}

/// Open connections `range` (room `i % rooms`) until one fails; those already in flight
/// finish (and are held if they join). Returns the first failure.
async fn open(
    url: &str,
    range: std::ops::Range<usize>,
    rooms: usize,
    handshake: Duration,
    held: &mut Held,
) -> Option<Error> {
    let mut first_error = None;
    // Set at the first failure: the attempts not yet started are skipped.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let stop = &stop;
    let mut attempts = stream::iter(range)
        .map(|i| async move {
            if stop.load(Relaxed) {
                return None;
            }
            let room = format!("idle-{}", i % rooms.max(1));
            let name = format!("idle{i}");
            Some(
                match tokio::time::timeout(handshake, join_tandem(url, &room, &name, 1024)).await {
                    Ok(r) => r,
                    Err(_) => Err(Error::Io(std::io::ErrorKind::TimedOut.into())),
                },
            )
        })
        .buffer_unordered(IN_FLIGHT);
    while let Some(r) = attempts.next().await {
        match r {
            Some(Ok(ws)) => {
                held.hold(ws);
                if held.tasks.len().is_multiple_of(2_000) {
                    println!("  {} connections held", held.tasks.len());
                }
            }
            Some(Err(e)) if first_error.is_none() => {
                first_error = Some(e);
                stop.store(true, Relaxed);
            }
            Some(Err(_)) | None => {}
        }
    }
    first_error
}

/// The kind of a failure to open a connection, as the limit probe names it.
fn kind(e: &Error) -> &'static str {
    match e {
        Error::Io(io) => match io.raw_os_error() {
            Some(23 | 24) => "client-open-files",
            Some(99) => "ephemeral-ports",
            Some(111) => "refused",
            Some(12 | 105) => "memory",
            Some(104 | 32) => "reset",
            _ if io.kind() == std::io::ErrorKind::TimedOut => "timeout",
            _ => "io",
        },
        Error::Refused(_) => "refused-handshake",
        Error::Closed(_) => "closed",
        Error::Protocol(_) => "protocol",
    }
}

pub async fn run(args: Args) -> Result<(), String> {
    let pid = Some(args.server_pid);
    let settle = Duration::from_millis(args.settle_ms);
    let n = args.conns;
    println!(
        "memory: {n} idle connections in {} rooms, then {} rounds of all-disconnect/all-reconnect",
        args.rooms, args.rounds
    );
    tokio::time::sleep(settle).await;
    let base = rss_kib(pid).ok_or("cannot read the server's VmRSS")?;
    let per_conn = |kib: u64| kib.saturating_sub(base) as f64 / n as f64;
    let connect = |what: &'static str| {
        let url = args.url.clone();
        async move {
            let mut held = Held::new();
            let began = Instant::now();
            let handshake = Duration::from_secs(30);
            if let Some(e) = open(&url, 0..n, args.rooms, handshake, &mut held).await {
                return Err(format!(
                    "{what}: after {} connections: {e}",
                    held.tasks.len()
                ));
            }
            tokio::time::sleep(settle).await;
            let kib = rss_kib(pid).ok_or("cannot read the server's VmRSS")?;
            println!(
                "  {what}: {n} joined in {:.1} s; server RSS {kib} KiB: {:.2} KiB per connection",
                began.elapsed().as_secs_f64() - settle.as_secs_f64(),
                per_conn(kib)
            );
            Ok::<_, String>((held, kib))
        }
    };
    println!("  before any connection: server RSS {base} KiB");
    let (mut held, fresh) = connect("fresh").await?;
    let mut rounds = Vec::new();
    for round in 1..=args.rounds {
        let lost = held.close_all().await;
        if lost > 0 {
            return Err(format!("{lost} idle connections were closed by the server"));
        }
        tokio::time::sleep(settle).await;
        let empty = rss_kib(pid).unwrap_or(0);
        println!("  round {round}: all disconnected: server RSS {empty} KiB");
        let (again, kib) = connect("reconnected").await?;
        held = again;
        rounds.push(json!({"disconnected_kib": empty, "reconnected_kib": kib, "kib_per_conn": per_conn(kib)}));
    }
    let lost = held.close_all().await;
    let result = json!({
        "conns": n,
        "rooms": args.rooms,
        "base_kib": base,
        "fresh_kib": fresh,
        "fresh_kib_per_conn": per_conn(fresh),
        "rounds": rounds,
        "closed_by_server": lost,
    });
    println!("MEMORY-RESULT {result}");
    Ok(())
}

pub async fn hold(args: HoldArgs) -> Result<(), String> {
    let began = Instant::now();
    let mut held = Held::new();
    let range = args.first..args.first + args.conns;
    let handshake = Duration::from_secs(args.handshake_secs);
    let opening = open(&args.url, range, args.rooms, handshake, &mut held);
    let error = match tokio::time::timeout(Duration::from_secs(args.timeout_secs), opening).await {
        Ok(e) => e,
        Err(_) => Some(Error::Io(std::io::ErrorKind::TimedOut.into())),
    };
    // Let the server's refusals (if any) show on connections it had accepted.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let result = json!({
        "held": held.tasks.len() - held.lost.load(Relaxed),
        "tried": args.conns,
        "closed_by_server": held.lost.load(Relaxed),
        "secs": began.elapsed().as_secs_f64(),
        "error": error.as_ref().map(|e| json!({"kind": kind(e), "detail": e.to_string()})),
    });
    println!("HOLD-RESULT {result}");
    let mut stdin = tokio::io::stdin();
    let mut byte = [0u8; 64];
    let hold = async { while stdin.read(&mut byte).await.is_ok_and(|n| n > 0) {} };
    let _ = tokio::time::timeout(Duration::from_secs(args.hold_secs), hold).await;
    held.close_all().await;
    Ok(())
}
