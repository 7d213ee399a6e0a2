//! The room's connections: subscribers (in `fanout.rs`), publishers that send a step when
//! told and read between steps, and the `Pool` that opens them and reopens those a failed
//! step closed. With several URLs (a cluster) publishers use the first and subscribers the
//! others in turn.

use super::{
    encode, join_tandem, payload, subscriber, Args, ClientMsg, Protocol, Shared, Stamp, Sub,
    IN_FLIGHT,
};
use crate::wire::RawWs;
use futures_util::{stream, StreamExt};
use std::{
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot};

async fn connect(shared: &Shared, url: &str, name: &str) -> Result<RawWs, String> {
    let open = async {
        match shared.protocol {
            Protocol::Raw => RawWs::connect(url, 16 * 1024).await,
            Protocol::Tandem => join_tandem(url, &shared.room, name, 16 * 1024).await,
        }
    };
    match tokio::time::timeout(Duration::from_secs(30), open).await {
        Ok(Ok(ws)) => Ok(ws),
        Ok(Err(e)) => Err(format!("{name}: {e}")),
        Err(_) => Err(format!("{name}: not connected within 30 s")),
    }
}

/// A step for one publisher: messages `j` of the step with `j % publishers == id`.
pub(super) struct StepCmd {
    pub(super) step: usize,
    pub(super) rate: f64,
    pub(super) count: u64,
    pub(super) t0: Instant,
    pub(super) done: oneshot::Sender<PubReport>,
}

#[derive(Debug, Default)]
pub(super) struct PubReport {
    pub(super) sent: u64,
    /// The furthest behind schedule a message went out, in ms.
    pub(super) late_ms: f64,
    pub(super) error: Option<String>,
}

/// A publisher connection: reads (and answers pings) between steps, runs a step when told.
async fn publisher(
    mut ws: RawWs,
    id: usize,
    seq: Arc<AtomicU64>,
    shared: Arc<Shared>,
    mut steps: mpsc::Receiver<StepCmd>,
) {
    loop {
        let cmd = tokio::select! {
            cmd = steps.recv() => match cmd {
                Some(cmd) => cmd,
                None => return,
            },
            read = ws.read_some() => {
                if read.and_then(|()| ws.frames(|_| {})).is_err() || ws.flush().await.is_err() {
                    return;
                }
                continue;
            }
        };
        let mut report = PubReport::default();
        if let Err(e) = send_step(&mut ws, id, &seq, &shared, &cmd, &mut report).await {
            report.error = Some(format!("publisher {id}: {e}"));
        }
        let failed = report.error.is_some();
        let _ = cmd.done.send(report);
        if failed {
            return;
        }
    }
}

async fn send_step(
    ws: &mut RawWs,
    id: usize,
    seq: &AtomicU64,
    shared: &Shared,
    cmd: &StepCmd,
    report: &mut PubReport,
) -> crate::wire::Result<()> {
    let mut j = id as u64;
    while j < cmd.count {
        let due = cmd.t0 + Duration::from_secs_f64(j as f64 / cmd.rate);
        let now = Instant::now();
        if due > now {
            ws.flush().await?;
            tokio::select! {
                () = tokio::time::sleep_until(due.into()) => {}
                read = ws.read_some() => {
                    read?;
                    ws.frames(|_| {})?;
                }
            }
            continue;
        }
        report.late_ms = report.late_ms.max((now - due).as_secs_f64() * 1000.0);
        let stamp = Stamp {
            publisher: id,
            step: cmd.step,
            seq: seq.fetch_add(1, Relaxed) + 1,
            sent_us: (due - shared.start).as_micros() as u64,
        };
        let text = payload(stamp);
        match shared.protocol {
            Protocol::Raw => ws.push_text(text.as_bytes()),
            Protocol::Tandem => ws.push_text(&encode(&ClientMsg::Chat {
                room: shared.room.clone(),
                text,
                client_id: Some(format!("p{id}-{}", stamp.seq)),
            })),
        }
        report.sent += 1;
        j += shared.publishers as u64;
    }
    ws.flush().await
}

/// A publisher as the controller holds it: its step queue, and its sequence numbers,
/// which go on across a reconnection.
pub(super) struct PubSlot {
    pub(super) steps: mpsc::Sender<StepCmd>,
    seq: Arc<AtomicU64>,
}

/// Every connection of the room.
pub(super) struct Pool {
    /// Publishers connect to the first; subscribers to the others round-robin (to the
    /// first too when it is the only one).
    urls: Vec<String>,
    pub(super) shared: Arc<Shared>,
    pub(super) subs: Vec<Arc<Sub>>,
    pub(super) pubs: Vec<PubSlot>,
}

impl Pool {
    pub(super) async fn open(args: &Args, shared: Arc<Shared>) -> Result<Pool, String> {
        let mut pool = Pool {
            urls: args.url.clone(),
            shared,
            subs: (0..args.subscribers).map(|_| Arc::default()).collect(),
            pubs: Vec::new(),
        };
        for _ in 0..args.publishers {
            let (steps, _) = mpsc::channel(1);
            pool.pubs.push(PubSlot {
                steps,
                seq: Arc::default(),
            });
        }
        pool.heal().await?;
        Ok(pool)
    }

    /// (Re)open every subscriber and publisher that is not connected; returns how many.
    pub(super) async fn heal(&mut self) -> Result<usize, String> {
        let dead: Vec<usize> = (0..self.subs.len())
            .filter(|&i| self.subs[i].closed.load(Relaxed) || Arc::strong_count(&self.subs[i]) == 1)
            .collect();
        let shared = &self.shared;
        let urls = &self.urls;
        let sub_urls = if urls.len() > 1 {
            &urls[1..]
        } else {
            &urls[..]
        };
        // Each subscriber reads (and answers pings) from the moment it is open: opening
        // 10,000 takes longer than the server's heartbeat timeout.
        let opened: Vec<(usize, Result<Arc<Sub>, String>)> = stream::iter(dead)
            .map(|i| async move {
                let url = &sub_urls[i % sub_urls.len()];
                let ws = connect(shared, url, &format!("sub{i}")).await;
                let sub = ws.map(|ws| {
                    let sub: Arc<Sub> = Arc::default();
                    tokio::spawn(subscriber(ws, sub.clone(), shared.clone()));
                    sub
                });
                (i, sub)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let healed = opened.len();
        for (i, sub) in opened {
            self.subs[i] = sub?;
        }
        let mut pubs = 0;
        for (id, slot) in self.pubs.iter_mut().enumerate() {
            if slot.steps.is_closed() {
                let ws = connect(shared, &urls[0], &format!("pub{id}")).await?;
                let (tx, rx) = mpsc::channel(1);
                let seq = slot.seq.clone();
                tokio::spawn(publisher(ws, id, seq, shared.clone(), rx));
                slot.steps = tx;
                pubs += 1;
            }
        }
        Ok(healed + pubs)
    }

    /// Wait until no frame has arrived for 300 ms (at most 15 s): the last step's backlog
    /// is through.
    pub(super) async fn settle(&self) {
        let until = Instant::now() + Duration::from_secs(15);
        let mut seen = self.shared.frames.load(Relaxed);
        while Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = self.shared.frames.load(Relaxed);
            if now == seen {
                return;
            }
            seen = now;
        }
    }
}
