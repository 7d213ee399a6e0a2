//! Fan-out side by side: for each subscriber count, `rounds` rounds; in each, every server in
//! turn (the order rotated by one per round) is started pinned and capped and measured by a
//! fresh generator (`tandem-loadgen fanout`). A table per round, Tandem's ratios to each
//! baseline per round, and a summary of the ratios against the targets.

use super::launch::{Kind, Running, GENERATOR_CORE};
use super::{generator, load_average, pinned, Opts, LOADGEN};
use crate::Result;
use serde_json::Value;

const KINDS: [Kind; 3] = [Kind::Tandem, Kind::Uws, Kind::Naive];
/// A generator using this much of its core may be what limited the rate.
const GENERATOR_BOUND: f64 = 0.9;
/// The p99 a passing step may have, in ms: the 100 first; when no rate passes that
/// (at 10,000 subscribers one message's fan-out alone takes longer under the 0.5 CPU quota,
/// for every server measured), the search is run again on a fresh server with the next.
const P99_LIMITS_MS: [u32; 2] = [100, 1_000];

/// One server's figures in one round.
struct Outcome {
    kind: Kind,
    result: std::result::Result<Value, String>,
    quota: bool,
    /// Periods, and periods throttled by the quota.
    throttled: Option<(u64, u64)>,
    load: String,
    /// What the server wrote to its log, if anything.
    log: Option<String>,
    /// The p99 limit the figures are for.
    p99_ms: u32,
}

impl Outcome {
    fn at(&self, step: &str, field: &str) -> Option<f64> {
        self.result.as_ref().ok()?.get(step)?.get(field)?.as_f64()
    }
}

/// Tandem ÷ a baseline: (max deliveries/s, deliveries per CPU-second).
type Ratio = (Option<f64>, Option<f64>);

pub(super) fn run(o: &Opts) -> Result {
    let mut summary = Vec::new();
    for &subs in &o.subscribers {
        for round in 0..o.rounds {
            let mut order = KINDS;
            order.rotate_left(round % KINDS.len());
            let outcomes: Vec<Outcome> = order.iter().map(|&k| measure(k, subs, o)).collect();
            summary.push((subs, round, table(subs, round, o.rounds, &outcomes)));
        }
    }
    println!("\n== fan-out summary: Tandem ÷ baseline, per round ==");
    for (subs, round, ratios) in &summary {
        let [uws, naive] = ratios;
        println!(
            "{} subscribers, round {}: vs uws {}; vs actix-naive {}",
            thousands(*subs as f64),
            round + 1,
            ratio_text(uws),
            ratio_text(naive)
        );
        if *subs == 1_000 {
            let met = |r: Option<f64>, want: f64| match r {
                Some(r) if r >= want => "yes",
                Some(_) => "no",
                None => "unknown",
            };
            println!(
                "  targets at 1,000 subscribers, per CPU-second: ≥ 0.5× uws: {}; ≥ 6× actix-naive: {}",
                met(uws.1, 0.5),
                met(naive.1, 6.0)
            );
        }
    }
    Ok(())
}

fn measure(kind: Kind, subs: usize, o: &Opts) -> Outcome {
    let mut outcome = None;
    for p99_ms in P99_LIMITS_MS {
        let tried = measure_at(kind, subs, o, p99_ms);
        let passed = tried.at("max", "deliveries_per_s").is_some();
        outcome = Some(tried);
        if passed {
            break;
        }
    }
    // unwrap: P99_LIMITS_MS is not empty.
    outcome.expect("a limit")
}

fn measure_at(kind: Kind, subs: usize, o: &Opts, p99_ms: u32) -> Outcome {
    let load = load_average();
    let mut outcome = Outcome {
        kind,
        result: Err("not started".into()),
        quota: false,
        throttled: None,
        load,
        log: None,
        p99_ms,
    };
    let running = match Running::start(kind, &o.server_bins[0], true) {
        Ok(r) => r,
        Err(e) => {
            outcome.result = Err(e);
            return outcome;
        }
    };
    let mut cmd = pinned(GENERATOR_CORE, LOADGEN);
    cmd.args([
        "fanout",
        "--protocol",
        kind.protocol(),
        "--url",
        &running.ws_url(),
    ])
    .args(["--subscribers", &subs.to_string()])
    .args(["--server-pid", &running.pid().to_string()])
    .args(["--max-secs", &o.max_secs.to_string()])
    .args(["--p99-ms", &p99_ms.to_string()]);
    outcome.result = generator(&mut cmd, "FANOUT-RESULT");
    outcome.quota = running.quota.is_some();
    outcome.throttled = running.quota.as_ref().and_then(|q| q.throttled());
    let (lines, _) = running.log_lines("");
    if lines > 0 {
        outcome.log = Some(format!("{lines} lines in {}", running.log.display()));
    }
    if let Err(e) = running.stop() {
        println!("{}: {e}", kind.name());
    }
    outcome
}

/// Print one round's table and ratios; returns Tandem ÷ uws and Tandem ÷ actix-naive.
fn table(subs: usize, round: usize, rounds: usize, outcomes: &[Outcome]) -> [Ratio; 2] {
    let order: Vec<&str> = outcomes.iter().map(|o| o.kind.name()).collect();
    println!(
        "\n== fan-out, {} subscribers + 2 publishers, 64-byte payloads, round {} of {rounds} (order: {}) ==",
        thousands(subs as f64),
        round + 1,
        order.join(" → ")
    );
    println!(
        "{:<12} {:>16} {:>16} {:>10} {:>9} {:>18} {:>18} {:>14} {:>5}",
        "server",
        "max deliveries/s",
        "per server CPU-s",
        "server CPU",
        "gen. CPU",
        "p50/p99 at max",
        "p50/p99 at half",
        "throttled",
        "load"
    );
    let mut notes = Vec::new();
    for o in outcomes {
        if let Err(e) = &o.result {
            println!("{:<12} failed: {e}", o.kind.name());
            continue;
        }
        let ms = |step: &str| match (o.at(step, "p50_ms"), o.at(step, "p99_ms")) {
            (Some(a), Some(b)) => format!("{a:.1} / {b:.1} ms"),
            _ => "-".into(),
        };
        let num = |v: Option<f64>, f: fn(f64) -> String| v.map_or("-".into(), f);
        let gen = o.at("max", "gen_cpu_share");
        println!(
            "{:<12} {:>16} {:>16} {:>10} {:>9} {:>18} {:>18} {:>14} {:>5}",
            o.kind.name(),
            num(o.at("max", "deliveries_per_s"), thousands),
            num(o.at("max", "deliveries_per_cpu_s"), thousands),
            num(o.at("max", "server_cpu_share"), |c| format!("{c:.2}")),
            num(gen, |c| format!("{c:.2}")),
            ms("max"),
            ms("half"),
            o.throttled
                .map_or("no quota".into(), |(p, t)| format!("{t} of {p}")),
            o.load,
        );
        let capped = o
            .result
            .as_ref()
            .ok()
            .and_then(|r| r.get("capped")?.as_bool());
        if capped == Some(true) {
            notes.push(format!(
                "{}: the time cap stopped the search",
                o.kind.name()
            ));
        }
        if gen.is_some_and(|g| g >= GENERATOR_BOUND) {
            notes.push(format!(
                "{}: the generator used ≥ {:.0}% of its core at the max step: the server may have more to give",
                o.kind.name(),
                GENERATOR_BOUND * 100.0
            ));
        }
        if let Some(log) = &o.log {
            notes.push(format!("{}: its log has {log}", o.kind.name()));
        }
        if o.p99_ms != P99_LIMITS_MS[0] {
            notes.push(format!(
                "{}: no rate passed with p99 ≤ {} ms (the search halved to its floor: see its \
                 steps above); these figures are for p99 ≤ {} ms",
                o.kind.name(),
                P99_LIMITS_MS[0],
                o.p99_ms
            ));
        }
        if !o.quota {
            notes.push(format!("{}: NO CPU QUOTA: figures UNQUOTED", o.kind.name()));
        }
    }
    for note in notes {
        println!("  note: {note}");
    }
    let of = |k: Kind| outcomes.iter().find(|o| o.kind == k);
    let ratio = |field: &str, base: Kind| {
        let t = of(Kind::Tandem)?.at("max", field)?;
        let b = of(base)?.at("max", field)?;
        (b > 0.0).then(|| t / b)
    };
    let ratios = [Kind::Uws, Kind::Naive].map(|base| {
        (
            ratio("deliveries_per_s", base),
            ratio("deliveries_per_cpu_s", base),
        )
    });
    println!(
        "ratios, round {}: tandem/uws {}; tandem/actix-naive {}",
        round + 1,
        ratio_text(&ratios[0]),
        ratio_text(&ratios[1])
    );
    ratios
}

fn ratio_text((max, cpu): &Ratio) -> String {
    let x = |r: &Option<f64>| r.map_or("?".into(), |r| format!("{r:.2}×"));
    format!("{} max deliveries/s, {} per CPU-second", x(max), x(cpu))
}

/// `1234567.8` → `1,234,568`.
pub(super) fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
