//! Memory per idle joined connection (`tandem-loadgen memory`: 10,000 in 100 rooms, fresh
//! and after three rounds of all-disconnect/all-reconnect), and the limit probe: several
//! `tandem-loadgen hold` processes (one process alone would meet its own open-files limit
//! first) open idle connections to one fresh server until one fails; while they hold them
//! the server's descriptors and RSS are read, and the first failure is named. Each
//! `--server-bin` is measured (builds with another allocator, say), the probe runs on the
//! first only; servers are pinned to their core but not capped (the quota would only slow
//! the connecting).

use super::launch::{Kind, Running, GENERATOR_CORE};
use super::{generator, load_average, pinned, read_result, Opts, LOADGEN};
use crate::Result;
use serde_json::Value;
use std::{fs, io::BufReader, path::Path, process::Stdio};

/// Connections one `hold` process opens at most (its open-files limit is the machine's).
const PER_PROCESS: usize = 10_000;

pub(super) fn run(o: &Opts) -> Result {
    let mut rows = Vec::new();
    for (i, bin) in o.server_bins.iter().enumerate() {
        let memory = measure(bin);
        // The probe, a few minutes, on the first binary only: the limit it meets is the
        // process's open files, whichever allocator.
        let probe = (i == 0).then(|| probe(bin, o.probe_conns));
        rows.push((bin.clone(), memory, probe));
    }
    println!(
        "\n== memory per idle joined connection: 10,000 in 100 rooms, server VmRSS over its RSS \
         before any (KiB; targets ≤ 16 fresh, ≤ 18 after 3 rounds) =="
    );
    println!(
        "{:<40} {:>8} {:>9} {:>9} {:>9}",
        "server", "fresh", "round 1", "round 2", "round 3"
    );
    for (bin, memory, _) in &rows {
        match memory {
            Ok(m) => {
                let cell = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
                let round = |i: usize| {
                    m.get("rounds")
                        .and_then(|r| r.get(i))
                        .and_then(|r| r.get("kib_per_conn"))
                        .and_then(Value::as_f64)
                };
                println!(
                    "{:<40} {:>8} {:>9} {:>9} {:>9}",
                    bin.display(),
                    cell(m.get("fresh_kib_per_conn").and_then(Value::as_f64)),
                    cell(round(0)),
                    cell(round(1)),
                    cell(round(2))
                );
            }
            Err(e) => println!("{:<40} failed: {e}", bin.display()),
        }
    }
    println!("\n== idle joined connections one server process holds here ==");
    for (bin, _, probe) in &rows {
        match probe {
            Some(Ok(text)) => println!("{}: {text}", bin.display()),
            Some(Err(e)) => println!("{}: probe failed: {e}", bin.display()),
            None => {}
        }
    }
    Ok(())
}

fn measure(bin: &Path) -> Result<Value> {
    println!(
        "\nmemory: {} (load average {})",
        bin.display(),
        load_average()
    );
    let running = Running::start(Kind::Tandem, bin, false)?;
    let mut cmd = pinned(GENERATOR_CORE, LOADGEN);
    cmd.args(["memory", "--url", &running.ws_url()])
        .args(["--server-pid", &running.pid().to_string()])
        .args(["--conns", "10000", "--rooms", "100", "--rounds", "3"]);
    let result = generator(&mut cmd, "MEMORY-RESULT");
    running.stop().and(result)
}

/// A process's soft limit on open files.
fn open_files_limit(pid: u32) -> Option<u64> {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn rss_mib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

/// Open idle connections until one fails; returns what was held and which limit it was.
fn probe(bin: &Path, conns: Option<usize>) -> Result<String> {
    println!(
        "\nlimit probe: {} (load average {})",
        bin.display(),
        load_average()
    );
    let running = Running::start(Kind::Tandem, bin, false)?;
    let pid = running.pid();
    let limit = open_files_limit(pid);
    // Past the server's open-files limit (if it has a low one), within the ports there are.
    let total = conns.unwrap_or_else(|| limit.map_or(24_000, |l| l as usize + 4_000).min(60_000));
    let mut children = Vec::new();
    for (i, first) in (0..total).step_by(PER_PROCESS).enumerate() {
        let n = PER_PROCESS.min(total - first);
        let mut cmd = pinned(GENERATOR_CORE, LOADGEN);
        cmd.args(["hold", "--url", &running.ws_url()])
            .args(["--conns", &n.to_string(), "--first", &first.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        println!("$ {cmd:?}  (process {})", i + 1);
        children.push(cmd.spawn().map_err(|e| format!("{LOADGEN}: {e}"))?);
    }
    let results: Vec<Option<Value>> = children
        .iter_mut()
        .map(|c| {
            read_result(
                BufReader::new(c.stdout.take().expect("piped")),
                "HOLD-RESULT",
            )
        })
        .collect();
    // The server while everything is held.
    let fds = fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|d| d.count());
    let rss = rss_mib(pid);
    let (_, emfile) = running.log_lines("Too many open files");
    for child in &mut children {
        drop(child.stdin.take());
    }
    for child in &mut children {
        let _ = child.wait();
    }
    let stopped = running.stop();
    let held: u64 = results
        .iter()
        .flatten()
        .filter_map(|r| r.get("held")?.as_u64())
        .sum();
    let errors: Vec<(String, String)> = results
        .iter()
        .flatten()
        .filter_map(|r| {
            let e = r.get("error")?;
            Some((
                e.get("kind")?.as_str()?.to_owned(),
                e.get("detail")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    let lost = results.iter().filter(|r| r.is_none()).count();
    let has = |kind: &str| errors.iter().any(|(k, _)| k == kind);
    let seen: Vec<String> = errors.iter().map(|(k, d)| format!("{k}: {d}")).collect();
    let limit_text = limit.map_or("?".into(), |l| l.to_string());
    let which = if fds.is_none() {
        "the server died while connections were opened (out of memory? see its log)".to_owned()
    } else if has("client-open-files") {
        "the generator's open-files limit (a hold process ran out of descriptors)".to_owned()
    } else if has("ephemeral-ports") {
        let ports =
            fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
        format!(
            "ephemeral ports to one address (ip_local_port_range {})",
            ports.trim()
        )
    } else if let (Some(fds), Some(l)) = (fds, limit.filter(|_| !errors.is_empty())) {
        if fds as u64 + 16 >= l {
            format!(
                "the server's open-files limit ({l}): it holds {fds} descriptors and accepts no \
                 more, so handshakes go unanswered (its log: {emfile} accept errors \"Too many \
                 open files\")"
            )
        } else {
            format!("unclear: the server has {fds} of {l} descriptors open")
        }
    } else if has("memory") {
        "memory (the generator's connections failed with ENOMEM/ENOBUFS)".to_owned()
    } else if errors.is_empty() && lost == 0 {
        format!("none: all {total} connections held (try --probe-conns)")
    } else {
        "unclear".to_owned()
    };
    stopped?;
    Ok(format!(
        "{held} of {total} tried; server {} descriptors (limit {limit_text}), {} MiB RSS; \
         first limit hit: {which}{}{}",
        fds.map_or("?".into(), |f| f.to_string()),
        rss.map_or("?".into(), |r| r.to_string()),
        if seen.is_empty() {
            String::new()
        } else {
            format!("; clients saw: {}", seen.join("; "))
        },
        if lost > 0 {
            format!("; {lost} hold process(es) reported nothing")
        } else {
            String::new()
        },
    ))
}
