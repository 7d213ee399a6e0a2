//! Join storms against a running server: `members` connections join one room (paced, or
//! all at once), a chat is sent halfway through, and then every one of them drops and
//! reconnects at once with its token and last seq. Checks, for each storm: nobody is
//! closed, every member's count reaches `members` within 2 s of the last join, and the
//! mid-storm chat reaches each member exactly once (live, or in the `joined` history of
//! those who came after it). Reports the server's RSS during and after.

use crate::{rss_kib, Ws};
use futures_util::{SinkExt, StreamExt};
use std::{
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tandem_shared::{ClientMsg, ServerMsg, PROTOCOL_VERSION};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite::Message;

const ROOM: &str = "storm";
const MARK: &str = "mid-storm hello";
/// Handshakes in flight at once.
const IN_FLIGHT: usize = 256;
/// How long after the last join every count must read the full room.
const CONVERGE: Duration = Duration::from_secs(2);

/// What the members saw, summed as it happens.
#[derive(Default)]
struct Seen {
    /// Members whose last known count is the full room.
    at_full: AtomicUsize,
    /// Connections closed by the server (or that failed).
    closed: AtomicUsize,
    /// Sightings of the mid-storm chat (live or in history), over all members.
    marks: AtomicUsize,
    joined: AtomicUsize,
    /// Presence frames received, over all members.
    presence: AtomicU64,
}

/// Who a member is, carried from one storm to the next.
#[derive(Clone, Default)]
struct Identity {
    token: Option<String>,
    last_seq: Option<u64>,
}

struct Member {
    url: String,
    n: usize,
    of: u64,
    me: Identity,
    seen: Arc<Seen>,
    stop: watch::Receiver<bool>,
    /// Member 0 says the mid-storm chat when this fires.
    speak: Option<mpsc::Receiver<()>>,
    /// Released once joined: bounds the handshakes in flight.
    permit: Option<OwnedSemaphorePermit>,
}

fn text(msg: &ClientMsg) -> Message {
    Message::text(serde_json::to_string(msg).expect("encode"))
}

async fn connect(url: &str) -> Result<Ws, String> {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(ws)
}

impl Member {
    /// Connect, `hello`, `join`, then read until told to stop; returns who it is now.
    async fn run(mut self) -> Identity {
        let Ok(mut ws) = connect(&self.url).await else {
            self.seen.closed.fetch_add(1, Ordering::SeqCst);
            return self.me;
        };
        let hello = ClientMsg::Hello {
            protocol_version: PROTOCOL_VERSION,
            token: self.me.token.clone(),
            jwt: None,
        };
        let join = ClientMsg::Join {
            room: ROOM.into(),
            name: format!("m{:05}", self.n),
            since: self.me.last_seq,
            invite: None,
        };
        if ws.send(text(&hello)).await.is_err() || ws.send(text(&join)).await.is_err() {
            self.seen.closed.fetch_add(1, Ordering::SeqCst);
            return self.me;
        }
        let mut full = false;
        loop {
            let frame = tokio::select! {
                frame = ws.next() => frame,
                _ = self.stop.changed() => break,
                Some(()) = async {
                    match self.speak.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    self.speak = None;
                    let chat = ClientMsg::Chat {
                        room: ROOM.into(),
                        text: MARK.into(),
                        client_id: Some(format!("mark-{}", self.me.last_seq.unwrap_or(0))),
                    };
                    if ws.send(text(&chat)).await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            let t = match frame {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    self.seen.closed.fetch_add(1, Ordering::SeqCst);
                    self.permit.take();
                    break;
                }
                Some(Ok(_)) => continue,
            };
            let Ok(msg) = serde_json::from_str::<ServerMsg>(&t) else {
                continue;
            };
            let count = match msg {
                ServerMsg::Hello { token: Some(t), .. } => {
                    self.me.token = Some(t);
                    None
                }
                ServerMsg::Joined {
                    count,
                    history,
                    last_seq,
                    ..
                } => {
                    self.seen.joined.fetch_add(1, Ordering::SeqCst);
                    self.permit.take();
                    let marks = history.iter().filter(|m| m.text == MARK).count();
                    self.seen.marks.fetch_add(marks, Ordering::SeqCst);
                    self.me.last_seq = Some(last_seq);
                    Some(count)
                }
                ServerMsg::Presence { count, .. } => {
                    self.seen.presence.fetch_add(1, Ordering::Relaxed);
                    Some(count)
                }
                ServerMsg::Chat(m) => {
                    self.me.last_seq = Some(m.seq.max(self.me.last_seq.unwrap_or(0)));
                    if m.text == MARK {
                        self.seen.marks.fetch_add(1, Ordering::SeqCst);
                    }
                    None
                }
                _ => None,
            };
            if let Some(count) = count {
                let now_full = count == self.of;
                if now_full && !full {
                    self.seen.at_full.fetch_add(1, Ordering::SeqCst);
                } else if full && !now_full {
                    self.seen.at_full.fetch_sub(1, Ordering::SeqCst);
                }
                full = now_full;
            }
        }
        let _ = ws.close(None).await;
        self.me
    }
}

/// Samples the server's RSS until dropped; `peak` is the highest seen.
struct RssWatch {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssWatch {
    fn start(pid: Option<u32>) -> RssWatch {
        let peak = Arc::new(AtomicU64::new(0));
        let high = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Some(kib) = rss_kib(pid) {
                    high.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        RssWatch { peak, task }
    }

    fn stop(self) -> u64 {
        self.task.abort();
        self.peak.load(Ordering::Relaxed)
    }
}

/// One storm; returns every member's identity for the next.
async fn storm(
    url: &str,
    pid: Option<u32>,
    before: Vec<Identity>,
    joins_per_sec: u64,
    what: &str,
) -> Result<Vec<Identity>, String> {
    let members = before.len();
    let seen = Arc::new(Seen::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let (speak_tx, speak_rx) = mpsc::channel(1);
    let mut speak_rx = Some(speak_rx);
    let rss = RssWatch::start(pid);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(members);
    for (n, me) in before.into_iter().enumerate() {
        if let Some(after_us) = (n as u64 * 1_000_000).checked_div(joins_per_sec) {
            tokio::time::sleep_until((started + Duration::from_micros(after_us)).into()).await;
        }
        let permit = gate.clone().acquire_owned().await.expect("open");
        let member = Member {
            url: url.to_owned(),
            n,
            of: members as u64,
            me,
            seen: seen.clone(),
            stop: stop_rx.clone(),
            speak: if n == 0 { speak_rx.take() } else { None },
            permit: Some(permit),
        };
        tasks.push(tokio::spawn(member.run()));
        if n == members / 2 {
            let _ = speak_tx.send(()).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.joined.load(Ordering::SeqCst) + seen.closed.load(Ordering::SeqCst) < members
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    let last_join = Instant::now();
    while seen.at_full.load(Ordering::SeqCst) < members && last_join.elapsed() < CONVERGE {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let converged = last_join.elapsed();
    let at_full = seen.at_full.load(Ordering::SeqCst);
    // The chat's last copies may still be on their way to the last joiners.
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.marks.load(Ordering::SeqCst) < members && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let peak = rss.stop();
    let (joined, closed) = (
        seen.joined.load(Ordering::SeqCst),
        seen.closed.load(Ordering::SeqCst),
    );
    let marks = seen.marks.load(Ordering::SeqCst);
    let presence = seen.presence.load(Ordering::Relaxed);
    println!(
        "  {what}: {joined} of {members} joined in {:.2} s; {closed} closed; counts at {members} for {at_full} members {:.0} ms after the last join; mid-storm chat seen {marks} times; {:.1} presence frames per member; server RSS peak {} MiB",
        took.as_secs_f64(),
        converged.as_secs_f64() * 1000.0,
        presence as f64 / members.max(1) as f64,
        peak / 1024,
    );
    stop_tx.send(true).expect("members listen");
    let mut out = Vec::with_capacity(members);
    for t in tasks {
        out.push(t.await.map_err(|e| format!("member task: {e}"))?);
    }
    let mut failed = Vec::new();
    if joined != members {
        failed.push(format!("{} did not join", members - joined));
    }
    if closed != 0 {
        failed.push(format!("{closed} closed"));
    }
    if at_full != members {
        failed.push(format!(
            "{} counts short of {members} after {CONVERGE:?}",
            members - at_full
        ));
    }
    if marks != members {
        failed.push(format!(
            "the mid-storm chat was seen {marks} times, not {members}"
        ));
    }
    if failed.is_empty() {
        Ok(out)
    } else {
        Err(format!("{what}: {}", failed.join("; ")))
    }
}

/// Both storms: `members` join at `joins_per_sec` (0: all at once), then all reconnect at once.
pub(crate) async fn run(
    url: &str,
    pid: Option<u32>,
    members: usize,
    joins_per_sec: u64,
) -> Result<(), String> {
    println!("storm: {members} connections join one room at {joins_per_sec}/s, then all reconnect at once");
    let first = storm(
        url,
        pid,
        vec![Identity::default(); members],
        joins_per_sec,
        "join",
    )
    .await?;
    let again = storm(url, pid, first, 0, "reconnect").await?;
    drop(again);
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Some(kib) = rss_kib(pid) {
        println!("  server RSS 2 s after everyone left: {} MiB", kib / 1024);
    }
    Ok(())
}
