//! The cluster bench's tables (`cluster.rs` measures): per round, the fixed-rate step and
//! the rate search of each configuration, their CPU (nodes summed, Redis, Postgres), and the
//! ratios 3 nodes ÷ 1 node; at the end each round's ratios and the latency target.

use super::cluster::{CONFIGS, FIXED_STEP_SECS, SEARCH_P99_MS};
use super::fanout::thousands;
use super::Opts;
use serde_json::Value;

/// The cross-node p99 wanted at the fixed rate, in ms.
const P99_TARGET_MS: f64 = 20.0;
/// A generator using this much of its core may be what limited the rate.
const GENERATOR_BOUND: f64 = 0.9;

/// One configuration's figures in one round.
pub(super) struct Outcome {
    pub(super) nodes: usize,
    /// `tandem-loadgen fanout --fixed-rate` and the search: their `FANOUT-RESULT`s.
    pub(super) fixed: Result<Value, String>,
    pub(super) search: Result<Value, String>,
    pub(super) quota: bool,
    /// Periods, and periods throttled by the quota, over both generators.
    pub(super) throttled: Option<(u64, u64)>,
    pub(super) load: String,
    pub(super) log_lines: usize,
    /// The round (from 0), for the logs' names.
    pub(super) round: usize,
}

impl Outcome {
    pub(super) fn new(nodes: usize, round: usize, load: String) -> Outcome {
        Outcome {
            nodes,
            fixed: Err("not run".into()),
            search: Err("not run".into()),
            quota: false,
            throttled: None,
            load,
            log_lines: 0,
            round,
        }
    }

    fn name(&self) -> String {
        match self.nodes {
            1 => "1 node".into(),
            n => format!("{n} nodes"),
        }
    }

    /// `path` (`step.field` or `step.aux_cpu_s.name`) in the fixed step (`fixed`) or in the
    /// search (`max`, `half`).
    fn at(&self, path: &str) -> Option<f64> {
        let (step, rest) = path.split_once('.')?;
        let result = match step {
            "fixed" => &self.fixed,
            _ => &self.search,
        };
        let mut v = result.as_ref().ok()?.get(step)?;
        for key in rest.split('.') {
            v = v.get(key)?;
        }
        v.as_f64()
    }

    fn cell(&self, path: &str, f: fn(f64) -> String) -> String {
        self.at(path).map_or("-".into(), f)
    }
}

fn ms(v: f64) -> String {
    format!("{v:.1}")
}

fn cpu(v: f64) -> String {
    format!("{v:.2}")
}

/// `b ÷ a`, when both are known and `a` is positive.
fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    let (a, b) = (a?, b?);
    (a > 0.0).then(|| b / a)
}

fn times(r: Option<f64>) -> String {
    r.map_or("?".into(), |r| format!("{r:.2}×"))
}

/// The figures the ratios are taken of: (label, path).
const RATIOS: [(&str, &str); 7] = [
    ("p50", "fixed.p50_ms"),
    ("p99", "fixed.p99_ms"),
    ("server CPU-s", "fixed.server_cpu_s"),
    ("redis CPU-s", "fixed.aux_cpu_s.redis"),
    ("postgres CPU-s", "fixed.aux_cpu_s.postgres"),
    ("max deliveries/s", "max.deliveries_per_s"),
    (
        "deliveries per server CPU-s at max",
        "max.deliveries_per_cpu_s",
    ),
];

/// Print one round's tables and its ratios.
pub(super) fn table(subs: usize, round: usize, o: &Opts, outcomes: &[Outcome]) {
    let order: Vec<String> = outcomes.iter().map(Outcome::name).collect();
    let rate = o.cluster_rate;
    println!(
        "\n== cluster, one room: {} subscribers + 2 publishers, 64-byte chat, round {} of {} \
         (order: {}) ==",
        thousands(subs as f64),
        round + 1,
        o.rounds,
        order.join(" → ")
    );
    println!(
        "   publishers on node 1, subscribers round-robin on the others (3 nodes: every delivery \
         crosses nodes); nodes, Redis, Postgres on core 1, the nodes under one 0.5-CPU quota"
    );
    println!(
        "\n-- at {rate} msg/s ({} deliveries/s), one {FIXED_STEP_SECS} s step: send→receive ms; \
         CPU-s over the step --",
        thousands(rate * subs as f64)
    );
    println!(
        "{:<8} {:>8} {:>8} {:>8} {:>6} {:>13} {:>12} {:>15} {:>5}",
        "config",
        "p50",
        "p99",
        "max",
        "lost",
        "server CPU-s",
        "redis CPU-s",
        "postgres CPU-s",
        "pass"
    );
    for x in outcomes {
        if let Err(e) = &x.fixed {
            println!("{:<8} failed: {e}", x.name());
            continue;
        }
        let pass = x
            .fixed
            .as_ref()
            .ok()
            .and_then(|r| r.get("fixed")?.get("pass")?.as_bool());
        println!(
            "{:<8} {:>8} {:>8} {:>8} {:>6} {:>13} {:>12} {:>15} {:>5}",
            x.name(),
            x.cell("fixed.p50_ms", ms),
            x.cell("fixed.p99_ms", ms),
            x.cell("fixed.max_ms", ms),
            x.cell("fixed.lost", |v| format!("{v:.0}")),
            x.cell("fixed.server_cpu_s", cpu),
            x.cell("fixed.aux_cpu_s.redis", cpu),
            x.cell("fixed.aux_cpu_s.postgres", cpu),
            pass.map_or("?", |p| if p { "yes" } else { "no" }),
        );
    }
    println!(
        "\n-- rate search: the highest rate with 0 lost, 0 closed, p99 ≤ {SEARCH_P99_MS} ms; CPU-s \
         over that step --"
    );
    println!(
        "{:<8} {:>16} {:>9} {:>16} {:>13} {:>12} {:>15} {:>14} {:>5}",
        "config",
        "max deliveries/s",
        "msg/s",
        "p50/p99 at max",
        "server CPU-s",
        "redis CPU-s",
        "postgres CPU-s",
        "throttled",
        "load"
    );
    let mut notes = Vec::new();
    for x in outcomes {
        if !x.quota {
            notes.push(format!("{}: NO CPU QUOTA: figures UNQUOTED", x.name()));
        }
        if x.log_lines > 0 {
            notes.push(format!(
                "{}: the nodes logged {} lines (target/bench/cluster-r{}-{}n-node*.log)",
                x.name(),
                x.log_lines,
                x.round + 1,
                x.nodes
            ));
        }
        if let Err(e) = &x.search {
            println!("{:<8} failed: {e}", x.name());
            continue;
        }
        let capped = x
            .search
            .as_ref()
            .ok()
            .and_then(|r| r.get("capped")?.as_bool());
        if capped == Some(true) {
            notes.push(format!(
                "{}: the time cap (--max-secs) stopped the search",
                x.name()
            ));
        }
        if x.at("max.gen_cpu_share")
            .is_some_and(|g| g >= GENERATOR_BOUND)
        {
            notes.push(format!(
                "{}: the generator used ≥ {:.0}% of its core at the max step: the cluster may \
                 have more to give",
                x.name(),
                GENERATOR_BOUND * 100.0
            ));
        }
        let p = match (x.at("max.p50_ms"), x.at("max.p99_ms")) {
            (Some(a), Some(b)) => format!("{a:.1} / {b:.1} ms"),
            _ => "-".into(),
        };
        println!(
            "{:<8} {:>16} {:>9} {:>16} {:>13} {:>12} {:>15} {:>14} {:>5}",
            x.name(),
            x.cell("max.deliveries_per_s", thousands),
            x.cell("max.rate_msgs", |v| format!("{v:.0}")),
            p,
            x.cell("max.server_cpu_s", cpu),
            x.cell("max.aux_cpu_s.redis", cpu),
            x.cell("max.aux_cpu_s.postgres", cpu),
            x.throttled
                .map_or("no quota".into(), |(p, t)| format!("{t} of {p}")),
            x.load,
        );
    }
    for note in notes {
        println!("  note: {note}");
    }
    println!(
        "ratios 3 nodes ÷ 1 node, round {}: {}",
        round + 1,
        ratios(outcomes)
    );
}

/// `label r×, …` for the round's two configurations.
fn ratios(outcomes: &[Outcome]) -> String {
    let of = |n: usize| outcomes.iter().find(|x| x.nodes == n);
    let (Some(one), Some(three)) = (of(CONFIGS[0]), of(CONFIGS[1])) else {
        return "?".into();
    };
    let parts: Vec<String> = RATIOS
        .iter()
        .map(|(label, path)| format!("{label} {}", times(ratio(one.at(path), three.at(path)))))
        .collect();
    parts.join(", ")
}

/// Every round's ratios, and whether the cross-node p99 met the target.
pub(super) fn summary(o: &Opts, rounds: &[(usize, usize, Vec<Outcome>)]) {
    println!(
        "\n== cluster summary: 3 nodes ÷ 1 node per round; cross-node p99 at {} msg/s (target ≤ \
         {P99_TARGET_MS} ms) ==",
        o.cluster_rate
    );
    for (subs, round, outcomes) in rounds {
        let p99 = |n: usize| {
            outcomes
                .iter()
                .find(|x| x.nodes == n)
                .and_then(|x| x.at("fixed.p99_ms"))
        };
        let three = p99(CONFIGS[1]);
        let met = match three {
            Some(p) if p <= P99_TARGET_MS => "yes",
            Some(_) => "no",
            None => "unknown",
        };
        let show = |v: Option<f64>| v.map_or("?".into(), |v| format!("{v:.1} ms"));
        println!(
            "{} subscribers, round {}: p99 3 nodes {} (target met: {met}), 1 node {}; {}",
            thousands(*subs as f64),
            round + 1,
            show(three),
            show(p99(CONFIGS[0])),
            ratios(outcomes)
        );
    }
}
