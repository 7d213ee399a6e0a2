//! Fan-out steps: `subscribers` connections and `publishers` more in one room; each step
//! the publishers send, open loop, a fixed number of messages a second for `step_secs`
//! (interleaved, each stamped with its scheduled send time), then up to `drain_secs` pass
//! for the rest to arrive. A step passes when every subscriber got every message of it
//! (none lost, none twice), none was closed, and p99 send→receive is within `p99_ms`.
//! Rates double until a step fails (halve until one passes if the first fails), then
//! `bisect` steps narrow it, then one step at half the highest passing rate measures the
//! latency there. The server's CPU time (/proc/PID/stat) is read around every step.
//!
//! `--protocol raw` (the baselines): a subscriber only connects and reads; a publisher
//! sends its 64-byte payload as a text frame and the server broadcasts it to everyone.
//! `--protocol tandem`: `hello` + `join` for all; publishers send `chat` (the payload as its
//! text, with a `client_id`) and subscribers read `chat`. Publishers read what they get too.
//! Deliveries counted are the subscribers' only, the same for every server.
//!
//! Against a cluster (`--url` lists its nodes) publishers use the first node and subscribers
//! the others, so every delivery counted crossed nodes; `--server-pid` then lists the nodes
//! (CPU summed), and `--aux-pid NAME=PID` adds Redis's and Postgres's CPU (`fanout/cpu.rs`).
//! `--fixed-rate R` runs one step at R instead of the search.

use crate::{encode, join_tandem, quantile_ms, wire::RawWs};
use pool::{Pool, StepCmd};
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::Instant,
};
use tandem_shared::{ClientMsg, ServerMsg};
use tokio::sync::oneshot;

mod cpu;
mod pool;
mod steps;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Raw broadcast: every text frame sent is relayed to every connection.
    Raw,
    /// Tandem's room protocol on `/ws`.
    Tandem,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server's WebSocket endpoint (`ws://HOST:PORT/ws`); several, comma-separated, for
    /// a cluster: publishers connect to the first, subscribers round-robin to the others
    /// (so that every delivery measured crosses nodes).
    #[arg(long, value_delimiter = ',', required = true)]
    url: Vec<String>,
    #[arg(long, value_enum, default_value = "tandem")]
    protocol: Protocol,
    #[arg(long, default_value_t = 1_000)]
    subscribers: usize,
    #[arg(long, default_value_t = 2)]
    publishers: usize,
    /// The server's PID, for its CPU time; several, comma-separated (a cluster's nodes), are
    /// summed.
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// `NAME=PID` (repeatable): another process whose CPU time, with all its descendants'
    /// (Postgres runs a process per connection), is reported per step as `aux_cpu_s.NAME`.
    #[arg(long = "aux-pid", value_parser = cpu::parse_aux)]
    aux_pid: Vec<(String, u32)>,
    /// Run one step at exactly this rate (messages a second into the room) instead of the
    /// rate search; its figures are the result's `fixed`.
    #[arg(long)]
    fixed_rate: Option<f64>,
    /// Seconds of sending per step.
    #[arg(long, default_value_t = 3.0)]
    step_secs: f64,
    /// Seconds a step waits after sending for the rest to arrive.
    #[arg(long, default_value_t = 2.0)]
    drain_secs: f64,
    /// Messages a second into the room at the first step.
    #[arg(long, default_value_t = 10.0)]
    start_rate: f64,
    /// Bisection steps after the doubling found a failing rate.
    #[arg(long, default_value_t = 3)]
    bisect: u32,
    /// The p99 send→receive a passing step may have, in ms.
    #[arg(long, default_value_t = 100.0)]
    p99_ms: f64,
    /// Everything (connecting included) within this many seconds: no step starts that
    /// could end after it.
    #[arg(long, default_value_t = 180)]
    pub max_secs: u64,
    #[arg(long, default_value = "bench-fanout")]
    room: String,
}

/// Exactly this many bytes of text per message.
const PAYLOAD: usize = 64;
/// Step ids are indices into per-step counters.
const MAX_STEPS: usize = 64;
/// Connections being set up at once.
const IN_FLIGHT: usize = 64;

/// What the generator's tasks share.
struct Shared {
    start: Instant,
    protocol: Protocol,
    publishers: usize,
    room: String,
    /// Frames received by subscribers, any step: tells when the server has gone quiet.
    frames: AtomicU64,
    /// Deliveries of each step's messages, over all subscribers.
    received: Vec<AtomicU64>,
}

/// A message's stamp, carried in its 64-byte payload.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stamp {
    publisher: usize,
    step: usize,
    seq: u64,
    /// Scheduled send time, µs since `Shared::start`.
    sent_us: u64,
}

fn payload(s: Stamp) -> String {
    let mut text = format!("p{} k{} s{} t{} ", s.publisher, s.step, s.seq, s.sent_us);
    while text.len() < PAYLOAD {
        text.push('.');
    }
    text
}

fn parse(text: &[u8]) -> Option<Stamp> {
    let (mut p, mut k, mut s, mut t) = (None, None, None, None);
    for token in text.split(|&b| b == b' ') {
        let (&tag, digits) = token.split_first()?;
        if tag == b'.' {
            break;
        }
        let n = std::str::from_utf8(digits).ok()?.parse::<u64>().ok()?;
        match tag {
            b'p' => p = Some(n as usize),
            b'k' => k = Some(n as usize),
            b's' => s = Some(n),
            b't' => t = Some(n),
            _ => return None,
        }
    }
    Some(Stamp {
        publisher: p?,
        step: k?,
        seq: s?,
        sent_us: t?,
    })
}

/// One subscriber's view, read by the controller after each step.
#[derive(Default)]
struct Sub {
    tally: Mutex<Tally>,
    closed: AtomicBool,
    why: Mutex<Option<String>>,
}

#[derive(Default)]
struct Tally {
    steps: Vec<StepTally>,
    /// The last `seq` seen from each publisher.
    last: Vec<u64>,
    /// Messages seen again or out of order (never counted as delivered).
    disorder: u64,
}

#[derive(Default)]
struct StepTally {
    got: u64,
    lat_us: Vec<u32>,
}

impl Tally {
    fn record(&mut self, s: Stamp, now_us: u64, shared: &Shared) {
        if s.step >= MAX_STEPS || s.publisher >= shared.publishers {
            return;
        }
        if self.last.len() < shared.publishers {
            self.last.resize(shared.publishers, 0);
        }
        if s.seq <= self.last[s.publisher] {
            self.disorder += 1;
            return;
        }
        self.last[s.publisher] = s.seq;
        if self.steps.len() <= s.step {
            self.steps.resize_with(s.step + 1, StepTally::default);
        }
        let step = &mut self.steps[s.step];
        step.got += 1;
        step.lat_us
            .push(now_us.saturating_sub(s.sent_us).min(u32::MAX as u64) as u32);
        shared.received[s.step].fetch_add(1, Relaxed);
    }
}

fn decode(protocol: Protocol, frame: &[u8]) -> Option<Stamp> {
    match protocol {
        Protocol::Raw => parse(frame),
        Protocol::Tandem => match serde_json::from_slice::<ServerMsg>(frame).ok()? {
            ServerMsg::Chat(m) => parse(m.text.as_bytes()),
            _ => None,
        },
    }
}

async fn subscriber(mut ws: RawWs, me: Arc<Sub>, shared: Arc<Shared>) {
    let why = loop {
        if let Err(e) = ws.read_some().await {
            break e;
        }
        let parsed = {
            // unwrap: the lock is never held across a panic.
            let mut tally = me.tally.lock().unwrap();
            ws.frames(|frame| {
                shared.frames.fetch_add(1, Relaxed);
                if let Some(s) = decode(shared.protocol, frame) {
                    let now = shared.start.elapsed().as_micros() as u64;
                    tally.record(s, now, &shared);
                }
            })
        };
        if let Err(e) = parsed {
            break e;
        }
        if let Err(e) = ws.flush().await {
            break e;
        }
    };
    *me.why.lock().unwrap() = Some(why.to_string());
    me.closed.store(true, Relaxed);
}

pub async fn run(args: Args) -> Result<(), String> {
    let began = Instant::now();
    let shared = Arc::new(Shared {
        start: Instant::now(),
        protocol: args.protocol,
        publishers: args.publishers.max(1),
        room: args.room.clone(),
        frames: AtomicU64::new(0),
        received: (0..MAX_STEPS).map(|_| AtomicU64::new(0)).collect(),
    });
    println!(
        "fan-out ({:?}): {} subscribers + {} publishers in one room, {PAYLOAD}-byte payloads, \
         steps of {} s (+ ≤ {} s drain), pass: 0 lost, 0 closed, p99 ≤ {} ms",
        args.protocol,
        args.subscribers,
        args.publishers,
        args.step_secs,
        args.drain_secs,
        args.p99_ms
    );
    if args.url.len() > 1 {
        println!(
            "  cluster of {}: publishers on {}, subscribers round-robin on the other {}",
            args.url.len(),
            args.url[0],
            args.url.len() - 1
        );
    }
    if let Some(rate) = args.fixed_rate {
        println!("  one step at {rate} msg/s (no rate search)");
    }
    let mut pool = Pool::open(&args, shared).await?;
    println!(
        "  {} connections open in {:.1} s",
        args.subscribers + args.publishers,
        began.elapsed().as_secs_f64()
    );
    let search = steps::Search::new(&args, began);
    let result = match args.fixed_rate {
        Some(rate) => search.fixed(&mut pool, rate).await?,
        None => search.run(&mut pool).await?,
    };
    println!("FANOUT-RESULT {result}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_64_bytes_and_parse_back() {
        let s = Stamp {
            publisher: 1,
            step: 63,
            seq: 123_456_789,
            sent_us: 9_999_999_999,
        };
        let text = payload(s);
        assert_eq!(text.len(), PAYLOAD);
        assert_eq!(parse(text.as_bytes()), Some(s));
        assert_eq!(parse(b"hello"), None);
    }
}
