//! CPU time of the processes measured around each step, from /proc: the servers' (several
//! PIDs summed: a cluster's nodes) and the auxiliary processes' (`--aux-pid NAME=PID`), each
//! with all its descendants (Postgres forks a backend per connection).

use std::collections::HashMap;

/// `NAME=PID`, as `--aux-pid` takes it.
pub(super) fn parse_aux(s: &str) -> Result<(String, u32), String> {
    let (name, pid) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=PID"))?;
    let pid = pid.trim().parse().map_err(|e| format!("{s:?}: PID: {e}"))?;
    if name.is_empty() {
        return Err(format!("{s:?}: empty NAME"));
    }
    Ok((name.to_owned(), pid))
}

/// CPU seconds of all of `pids` together; `None` if there are none or one cannot be read.
pub(super) fn sum_secs(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| crate::cpu_secs(p)).sum()
}

/// One process's line of /proc/PID/stat: its parent, and its CPU seconds including those of
/// the children it has reaped (`utime + stime + cutime + cstime`).
struct Stat {
    ppid: u32,
    ticks: f64,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (which may hold spaces) in parentheses: field 3 onwards.
    let fields: Vec<&str> = text.rsplit_once(") ")?.1.split_whitespace().collect();
    let field = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some(Stat {
        ppid: fields.get(1)?.parse().ok()?,
        ticks: field(11)? + field(12)? + field(13)? + field(14)?,
    })
}

/// CPU seconds of `root` and every process descended from it that is alive now, found by
/// scanning /proc for parent links. A descendant that exited and was reaped is counted in
/// its parent's `cutime`/`cstime`, so nothing is counted twice; `None` if `root` is gone.
pub(super) fn tree_secs(root: u32) -> Option<f64> {
    let root_stat = stat(root)?;
    let mut children: HashMap<u32, Vec<(u32, f64)>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == root {
            continue;
        }
        if let Some(s) = stat(pid) {
            children.entry(s.ppid).or_default().push((pid, s.ticks));
        }
    }
    let mut ticks = root_stat.ticks;
    let mut todo = vec![root];
    while let Some(parent) = todo.pop() {
        for &(pid, t) in children.get(&parent).into_iter().flatten() {
            ticks += t;
            todo.push(pid);
        }
    }
    Some(ticks / crate::clock_ticks())
}

/// CPU seconds of each `--aux-pid` process tree now.
pub(super) fn aux_secs(aux: &[(String, u32)]) -> Vec<Option<f64>> {
    aux.iter().map(|(_, pid)| tree_secs(*pid)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aux_pids_parse() {
        assert_eq!(parse_aux("redis=42"), Ok(("redis".into(), 42)));
        assert!(parse_aux("redis").is_err());
        assert!(parse_aux("=42").is_err());
        assert!(parse_aux("pg=x").is_err());
    }

    #[test]
    fn a_tree_counts_at_least_its_root() {
        let me = std::process::id();
        let alone = crate::cpu_secs(me).unwrap();
        assert!(tree_secs(me).unwrap() >= alone);
        assert_eq!(sum_secs(&[]), None);
    }
}
