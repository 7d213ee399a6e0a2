//! The rate search (or one step at `--fixed-rate`), and one step: heal the room, send,
//! drain, tally, let the backlog settle.

use super::{cpu, oneshot, quantile_ms, Args, Pool, StepCmd, MAX_STEPS};
use serde_json::{json, Value};
use std::{
    sync::atomic::Ordering::Relaxed,
    time::{Duration, Instant},
};

/// The highest and lowest rates (messages a second into the room) the search tries.
const MAX_RATE: f64 = 50_000.0;
const MIN_RATE: f64 = 0.25;

/// What one step did.
struct Step {
    rate: f64,
    /// Messages sent, and the sending time they were scheduled over.
    sent: u64,
    send_secs: f64,
    delivered: u64,
    lost: u64,
    closed: usize,
    disorder: u64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// From the first scheduled send to the end of the drain.
    wall_s: f64,
    server_cpu_s: Option<f64>,
    gen_cpu_s: Option<f64>,
    /// Each `--aux-pid` process tree's CPU seconds over the step, in their order.
    aux_cpu_s: Vec<Option<f64>>,
    late_ms: f64,
    pass: bool,
    why: String,
}

impl Step {
    fn deliveries_per_s(&self) -> f64 {
        self.delivered as f64 / self.send_secs
    }

    fn json(&self, aux: &[(String, u32)]) -> Value {
        let aux_cpu: serde_json::Map<String, Value> = aux
            .iter()
            .zip(&self.aux_cpu_s)
            .map(|((name, _), c)| (name.clone(), json!(c)))
            .collect();
        let per_cpu = self
            .server_cpu_s
            .filter(|c| *c > 0.0)
            .map(|c| self.delivered as f64 / c);
        json!({
            "rate_msgs": self.rate,
            "sent": self.sent,
            "deliveries_per_s": self.deliveries_per_s(),
            "delivered": self.delivered,
            "lost": self.lost,
            "closed": self.closed,
            "disorder": self.disorder,
            "server_cpu_s": self.server_cpu_s,
            "deliveries_per_cpu_s": per_cpu,
            "server_cpu_share": self.server_cpu_s.map(|c| c / self.wall_s),
            "gen_cpu_share": self.gen_cpu_s.map(|c| c / self.wall_s),
            "aux_cpu_s": aux_cpu,
            "wall_s": self.wall_s,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "late_ms": self.late_ms,
            "pass": self.pass,
            "why": self.why,
        })
    }
}

pub(super) struct Search<'a> {
    args: &'a Args,
    began: Instant,
    next: usize,
}

impl<'a> Search<'a> {
    pub(super) fn new(args: &'a Args, began: Instant) -> Self {
        Search {
            args,
            began,
            next: 0,
        }
    }

    /// The `FANOUT-RESULT` object: what was run, then `fields`.
    fn result(&self, fields: Value) -> Value {
        let mut out = json!({
            "protocol": format!("{:?}", self.args.protocol).to_lowercase(),
            "subscribers": self.args.subscribers,
            "publishers": self.args.publishers,
            "nodes": self.args.url.len(),
        });
        if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), fields) {
            out.extend(fields);
        }
        out
    }

    /// Whether a step started now would end within `max_secs`.
    fn time_left(&self) -> bool {
        let step = self.args.step_secs + self.args.drain_secs + 2.0;
        self.began.elapsed().as_secs_f64() + step < self.args.max_secs as f64
    }

    /// One step at `rate`, if there is time for it.
    pub(super) async fn fixed(mut self, pool: &mut Pool, rate: f64) -> Result<Value, String> {
        let step = if self.time_left() {
            Some(self.step(pool, rate).await?)
        } else {
            println!(
                "  time cap of {} s reached: no time for the step",
                self.args.max_secs
            );
            None
        };
        let aux = &self.args.aux_pid;
        Ok(self.result(json!({
            "fixed": step.as_ref().map(|s| s.json(aux)),
            "steps": self.next,
            "capped": step.is_none(),
            "elapsed_s": self.began.elapsed().as_secs_f64(),
        })))
    }

    pub(super) async fn run(mut self, pool: &mut Pool) -> Result<Value, String> {
        let (mut best, mut fail, mut capped): (Option<Step>, Option<f64>, bool) =
            (None, None, false);
        let mut rate = self.args.start_rate;
        // Doubling (or halving, while nothing passed) until the answer is bracketed.
        loop {
            if !self.time_left() {
                capped = true;
                break;
            }
            let s = self.step(pool, rate).await?;
            if s.pass {
                best = Some(s);
                rate *= 2.0;
                if fail.is_some() || rate > MAX_RATE {
                    break;
                }
            } else {
                fail = Some(rate);
                rate /= 2.0;
                if best.is_some() || rate < MIN_RATE {
                    break;
                }
            }
        }
        for _ in 0..self.args.bisect {
            let (Some(lo), Some(hi)) = (&best, fail) else {
                break;
            };
            if !self.time_left() {
                capped = true;
                break;
            }
            let mid = (lo.rate + hi) / 2.0;
            let s = self.step(pool, mid).await?;
            if s.pass {
                best = Some(s);
            } else {
                fail = Some(mid);
            }
        }
        let mut half = None;
        if let Some(b) = &best {
            if self.time_left() {
                half = Some(self.step(pool, b.rate / 2.0).await?);
            } else {
                capped = true;
            }
        }
        if capped {
            println!(
                "  time cap of {} s reached: search stopped",
                self.args.max_secs
            );
        }
        let aux = &self.args.aux_pid;
        Ok(self.result(json!({
            "max": best.as_ref().map(|s| s.json(aux)),
            "half": half.as_ref().map(|s| s.json(aux)),
            "first_failing_rate_msgs": fail,
            "steps": self.next,
            "capped": capped,
            "elapsed_s": self.began.elapsed().as_secs_f64(),
        })))
    }

    async fn step(&mut self, pool: &mut Pool, rate: f64) -> Result<Step, String> {
        let healed = pool.heal().await?;
        if healed > 0 {
            println!("  reconnected {healed} connections closed in the last step");
        }
        let k = self.next;
        if k >= MAX_STEPS {
            return Err("too many steps".into());
        }
        self.next += 1;
        let s = self.measure(pool, k, rate).await;
        let subs = pool.subs.len() as f64;
        let aux: String = self
            .args
            .aux_pid
            .iter()
            .zip(&s.aux_cpu_s)
            .map(|((name, _), c)| {
                let c = c.map_or("?".into(), |c| format!("{c:.2}"));
                format!(" · {name} {c} CPU-s")
            })
            .collect();
        println!(
            "  step {k:2}: {rate:8.1} msg/s = {:9.0} deliveries/s offered: {} · got {:.0}/s, \
             p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms · server {} · generator {}{aux}",
            rate * subs,
            if s.pass {
                "pass".to_owned()
            } else {
                format!("FAIL ({})", s.why)
            },
            s.deliveries_per_s(),
            s.p50_ms,
            s.p99_ms,
            s.max_ms,
            s.server_cpu_s.map_or("CPU unknown".into(), |c| format!(
                "{c:.2} CPU-s = {:.2} CPU",
                c / s.wall_s
            )),
            s.gen_cpu_s
                .map_or("?".into(), |c| format!("{:.2} CPU", c / s.wall_s)),
        );
        pool.settle().await;
        Ok(s)
    }

    async fn measure(&self, pool: &Pool, k: usize, rate: f64) -> Step {
        let a = self.args;
        let shared = &pool.shared;
        let count = (rate * a.step_secs).round().max(1.0) as u64;
        let subs = pool.subs.clone();
        let cpu0 = cpu::sum_secs(&a.server_pid);
        let aux0 = cpu::aux_secs(&a.aux_pid);
        let gen0 = crate::cpu_secs(std::process::id());
        let t0 = Instant::now() + Duration::from_millis(20);
        let mut replies = Vec::new();
        let mut errors = Vec::new();
        for slot in &pool.pubs {
            let (done, reply) = oneshot::channel();
            let cmd = StepCmd {
                step: k,
                rate,
                count,
                t0,
                done,
            };
            if slot.steps.send(cmd).await.is_err() {
                errors.push("a publisher was closed".to_owned());
            }
            replies.push(reply);
        }
        let (mut sent, mut late_ms) = (0, 0f64);
        for reply in replies {
            match reply.await {
                Ok(r) => {
                    sent += r.sent;
                    late_ms = late_ms.max(r.late_ms);
                    errors.extend(r.error);
                }
                Err(_) => errors.push("a publisher was closed".to_owned()),
            }
        }
        let expected = sent * subs.len() as u64;
        let drained = Instant::now() + Duration::from_secs_f64(a.drain_secs);
        while shared.received[k].load(Relaxed) < expected && Instant::now() < drained {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let wall_s = t0.elapsed().as_secs_f64();
        let server_cpu_s = cpu::sum_secs(&a.server_pid).zip(cpu0).map(|(b, a)| b - a);
        let aux_cpu_s = cpu::aux_secs(&a.aux_pid)
            .into_iter()
            .zip(aux0)
            .map(|(b, a)| Some(b? - a?))
            .collect();
        let gen_cpu_s = crate::cpu_secs(std::process::id())
            .zip(gen0)
            .map(|(b, a)| b - a);
        let (mut delivered, mut lost, mut closed, mut disorder) = (0, 0, 0, 0);
        let mut lat = Vec::with_capacity(expected as usize);
        let mut why_closed = None;
        for sub in &subs {
            // unwrap: the lock is never held across a panic.
            let mut tally = sub.tally.lock().unwrap();
            let got = tally
                .steps
                .get_mut(k)
                .map(std::mem::take)
                .unwrap_or_default();
            disorder += std::mem::take(&mut tally.disorder);
            drop(tally);
            delivered += got.got;
            lost += sent.saturating_sub(got.got);
            lat.extend(got.lat_us);
            if sub.closed.load(Relaxed) {
                closed += 1;
                why_closed = why_closed.or_else(|| sub.why.lock().unwrap().clone());
            }
        }
        lat.sort_unstable();
        let p99_ms = quantile_ms(&lat, 0.99);
        let mut why = errors;
        if lost > 0 {
            why.push(format!("lost {lost}"));
        }
        if closed > 0 {
            why.push(format!(
                "{closed} closed: {}",
                why_closed.unwrap_or_default()
            ));
        }
        if disorder > 0 {
            why.push(format!("{disorder} duplicated or out of order"));
        }
        if p99_ms > a.p99_ms {
            why.push(format!("p99 {p99_ms:.0} ms"));
        }
        Step {
            rate,
            sent,
            send_secs: count as f64 / rate,
            delivered,
            lost,
            closed,
            disorder,
            p50_ms: quantile_ms(&lat, 0.5),
            p99_ms,
            max_ms: lat.last().map_or(0.0, |&m| m as f64 / 1000.0),
            wall_s,
            server_cpu_s,
            gen_cpu_s,
            aux_cpu_s,
            late_ms,
            pass: why.is_empty(),
            why: why.join(", "),
        }
    }
}
