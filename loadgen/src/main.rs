//! `tandem-loadgen`: drives a running Tandem server over real WebSockets on loopback and
//! reports (1) fan-out throughput and latency in one busy room and (2) the server's memory per
//! idle connection; or (3) join storms (`--storm`, `storm.rs`). Bounded in count and time;
//! run through `cargo xtask bench` (and the storm through `cargo xtask test`).

mod storm;

use clap::Parser;
use futures_util::{stream::FuturesUnordered, SinkExt, StreamExt};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tandem_shared::{ClientMsg, ServerMsg};
use tokio::sync::Semaphore;
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Parser, Debug)]
struct Args {
    /// The server's room endpoint.
    #[arg(long)]
    url: String,
    /// The server's PID, to read its memory (VmRSS) from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Receivers in the busy room.
    #[arg(long, default_value_t = 300)]
    clients: usize,
    /// Connections that send (also members of the room).
    #[arg(long, default_value_t = 4)]
    senders: usize,
    /// Messages sent in all.
    #[arg(long, default_value_t = 2_000)]
    messages: usize,
    /// Unacknowledged messages each sender may have in flight.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Idle connections opened for the memory measurement.
    #[arg(long, default_value_t = 2_000)]
    idle: usize,
    /// Idle connections only connect (no join): measures the transport alone.
    #[arg(long)]
    idle_bare: bool,
    /// Only measure idle memory.
    #[arg(long)]
    idle_only: bool,
    /// Instead of the rest: a join storm of this many connections into one room, then a
    /// reconnect storm; exits non-zero unless both hold (see `storm.rs`).
    #[arg(long)]
    storm: Option<usize>,
    /// Joins a second in the first storm (0: all at once); 5,000 within 5 s by default.
    #[arg(long, default_value_t = 1_250)]
    storm_rate: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn connect(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    ws
}

async fn send(ws: &mut Ws, msg: &ClientMsg) {
    ws.send(Message::text(serde_json::to_string(msg).expect("encode")))
        .await
        .expect("send");
}

/// Read until `joined` for `room`.
async fn join(ws: &mut Ws, room: &str, name: &str) {
    send(
        ws,
        &ClientMsg::Join {
            room: room.into(),
            name: name.into(),
            since: None,
            invite: None,
        },
    )
    .await;
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(t) = msg {
            if let Ok(ServerMsg::Joined { .. }) = serde_json::from_str(&t) {
                return;
            }
        }
    }
    panic!("connection closed before joined");
}

/// Open `n` connections (64 at a time), each joined to a room chosen by `room_of`.
async fn open_many(url: &str, n: usize, room_of: impl Fn(usize) -> String) -> Vec<Ws> {
    let mut all = Vec::with_capacity(n);
    for start in (0..n).step_by(64) {
        let batch: FuturesUnordered<_> = (start..n.min(start + 64))
            .map(|i| {
                let room = room_of(i);
                async move {
                    let mut ws = connect(url).await;
                    join(&mut ws, &room, &format!("load{i}")).await;
                    ws
                }
            })
            .collect();
        all.extend(batch.collect::<Vec<_>>().await);
    }
    all
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn fanout(args: &Args) {
    let room = "bench-fanout";
    println!(
        "fan-out: {} receivers + {} senders (window {}) in one room, {} messages",
        args.clients, args.senders, args.window, args.messages
    );
    let receivers = open_many(&args.url, args.clients, |_| room.to_owned()).await;
    let senders = open_many(&args.url, args.senders, |_| room.to_owned()).await;
    let start = Instant::now();
    let per_sender = args.messages / args.senders.max(1);
    let total = per_sender * args.senders.max(1);

    // Each receiver counts chats and records latency from the send time in the text.
    let mut readers = Vec::new();
    for mut ws in receivers {
        readers.push(tokio::spawn(async move {
            let mut lat_us = Vec::with_capacity(total);
            while lat_us.len() < total {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) => {
                        if let Ok(ServerMsg::Chat(m)) = serde_json::from_str::<ServerMsg>(&t) {
                            let sent: u64 = m.text.parse().unwrap_or(0);
                            lat_us.push((start.elapsed().as_micros() as u64).saturating_sub(sent));
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
            lat_us
        }));
    }
    let mut writers = Vec::new();
    let window = args.window;
    for (s, ws) in senders.into_iter().enumerate() {
        let (mut tx, mut rx) = ws.split();
        // Like a real client, a sender keeps at most `window` messages unacknowledged: its
        // reader returns a permit for each of its own messages that comes back with a seq.
        let permits = Arc::new(Semaphore::new(window));
        let returned = permits.clone();
        let mine = format!("s{s}-");
        tokio::spawn(async move {
            while let Some(Ok(msg)) = rx.next().await {
                if let Message::Text(t) = msg {
                    if let Ok(ServerMsg::Chat(m)) = serde_json::from_str::<ServerMsg>(&t) {
                        if m.client_id.is_some_and(|c| c.starts_with(&mine)) {
                            returned.add_permits(1);
                        }
                    }
                }
            }
        });
        writers.push(tokio::spawn(async move {
            for i in 0..per_sender {
                permits.acquire().await.expect("semaphore open").forget();
                let text = (start.elapsed().as_micros() as u64).to_string();
                let msg = ClientMsg::Chat {
                    room: room.into(),
                    text,
                    client_id: Some(format!("s{s}-{i}")),
                };
                let frame = Message::text(serde_json::to_string(&msg).expect("encode"));
                if tx.send(frame).await.is_err() {
                    break;
                }
            }
            tx
        }));
    }
    let mut lat = Vec::new();
    let mut complete = 0;
    for r in readers {
        let got = r.await.expect("reader");
        if got.len() == total {
            complete += 1;
        }
        lat.extend(got);
    }
    let elapsed = start.elapsed();
    for w in writers {
        let _ = w.await;
    }
    lat.sort_unstable();
    let secs = elapsed.as_secs_f64();
    println!(
        "  receivers with every message: {complete} of {}",
        args.clients
    );
    println!(
        "  {total} messages in {secs:.2} s: {:.0} messages/s into the room",
        total as f64 / secs
    );
    println!(
        "  {} deliveries: {:.0} deliveries/s",
        lat.len(),
        lat.len() as f64 / secs
    );
    println!(
        "  latency send→receive: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&lat, 0.5) as f64 / 1000.0,
        percentile(&lat, 0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
}

async fn idle(args: &Args) {
    println!(
        "idle: {} connections, each joined to one of 100 rooms",
        args.idle
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(args.server_pid);
    let conns = if args.idle_bare {
        let mut all = Vec::with_capacity(args.idle);
        for _ in 0..args.idle {
            all.push(connect(&args.url).await);
        }
        all
    } else {
        open_many(&args.url, args.idle, |i| format!("idle-{}", i % 100)).await
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(args.server_pid);
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "  server RSS {b} KiB → {a} KiB: {:.1} KiB per idle connection",
            a.saturating_sub(b) as f64 / args.idle as f64
        ),
        _ => println!("  (no --server-pid: memory not measured)"),
    }
    drop(conns);
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let limit = Duration::from_secs(args.timeout_secs);
    if let Some(members) = args.storm {
        let run = storm::run(&args.url, args.server_pid, members, args.storm_rate);
        match tokio::time::timeout(limit, run).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => eprintln!("loadgen: storm failed: {e}"),
            Err(_) => eprintln!("loadgen: gave up after {limit:?}"),
        }
        std::process::exit(1);
    }
    let work = async {
        idle(&args).await;
        if !args.idle_only {
            fanout(&args).await;
        }
    };
    if tokio::time::timeout(limit, work).await.is_err() {
        eprintln!("loadgen: gave up after {limit:?}");
        std::process::exit(1);
    }
}
