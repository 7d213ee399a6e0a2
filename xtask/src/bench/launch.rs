//! Starting a server for a measurement: pinned to `SERVER_CORE` with taskset, and when asked
//! in a cgroup of its own whose CPU quota is 0.5 CPU (cgroup v1's `cpu` controller, else v2's
//! `cpu.max`), put there before it executes (`sh` writes its own pid, then `exec`s it).

use super::LOADGEN;
use crate::{tempdir, tools, Result, Server};
use std::{
    ffi::OsString,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

/// The server's core; the generator gets core 0.
pub(super) const SERVER_CORE: u32 = 1;
pub(super) const GENERATOR_CORE: u32 = 0;
/// Tandem's flags that switch off the per-client limits one load generator would trip (its
/// connections all come from 127.0.0.1, each sends fast, all join at once).
pub(super) const NO_CLIENT_LIMITS: [&str; 6] = [
    "--rate-per-sec",
    "0",
    "--max-conns-per-addr",
    "0",
    "--joins-per-sec",
    "0",
];
/// 0.5 CPU: this much CPU time per period.
const QUOTA_US: u64 = 50_000;
const PERIOD_US: u64 = 100_000;

/// The servers the bench compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Tandem's room path, default configuration (but for the per-client limits), SQLite.
    Tandem,
    /// uWebSockets.js raw broadcast (`loadgen/uws/broadcast.mjs`).
    Uws,
    /// The naive actix-ws broadcaster (`baseline/`).
    Naive,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Tandem => "tandem",
            Kind::Uws => "uws",
            Kind::Naive => "actix-naive",
        }
    }

    /// What `tandem-loadgen fanout --protocol` speaks to it.
    pub(super) fn protocol(self) -> &'static str {
        match self {
            Kind::Tandem => "tandem",
            _ => "raw",
        }
    }
}

/// A cgroup capping what runs in it at 0.5 CPU; removed on drop.
pub(super) struct Quota {
    dir: PathBuf,
}

impl Quota {
    /// Make one, or say why none could be made.
    pub(super) fn create(name: &str) -> std::result::Result<Quota, String> {
        let name = format!("tandem-bench-{name}-{}", std::process::id());
        let write = |dir: &Path, file: &str, value: &str| {
            fs::write(dir.join(file), value)
                .map_err(|e| format!("{}: {e}", dir.join(file).display()))
        };
        let mut why = Vec::new();
        let v1 = Path::new("/sys/fs/cgroup/cpu");
        if v1.join("cpu.cfs_quota_us").is_file() {
            let dir = v1.join(&name);
            let made = fs::create_dir(&dir)
                .map_err(|e| format!("{}: {e}", dir.display()))
                .and_then(|()| write(&dir, "cpu.cfs_period_us", &PERIOD_US.to_string()))
                .and_then(|()| write(&dir, "cpu.cfs_quota_us", &QUOTA_US.to_string()));
            match made {
                Ok(()) => return Ok(Quota { dir }),
                Err(e) => {
                    let _ = fs::remove_dir(&dir);
                    why.push(format!("cgroup v1: {e}"));
                }
            }
        }
        let v2 = Path::new("/sys/fs/cgroup");
        let controllers = fs::read_to_string(v2.join("cgroup.controllers")).unwrap_or_default();
        if controllers.split_whitespace().any(|c| c == "cpu") {
            let _ = fs::write(v2.join("cgroup.subtree_control"), "+cpu");
            let dir = v2.join(&name);
            let made = fs::create_dir(&dir)
                .map_err(|e| format!("{}: {e}", dir.display()))
                .and_then(|()| write(&dir, "cpu.max", &format!("{QUOTA_US} {PERIOD_US}")));
            match made {
                Ok(()) => return Ok(Quota { dir }),
                Err(e) => {
                    let _ = fs::remove_dir(&dir);
                    why.push(format!("cgroup v2: {e}"));
                }
            }
        }
        if why.is_empty() {
            why.push("no cgroup cpu controller (v1 /sys/fs/cgroup/cpu, v2 cpu.max)".into());
        }
        Err(why.join("; "))
    }

    fn procs(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// Periods so far, and those in which the quota throttled the group.
    pub(super) fn throttled(&self) -> Option<(u64, u64)> {
        let stat = fs::read_to_string(self.dir.join("cpu.stat")).ok()?;
        let field = |name: &str| {
            stat.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
        };
        Some((field("nr_periods ")?, field("nr_throttled ")?))
    }
}

impl Drop for Quota {
    fn drop(&mut self) {
        // The group empties as soon as its process is reaped; give the kernel a moment.
        for _ in 0..20 {
            if fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        eprintln!("bench: could not remove {}", self.dir.display());
    }
}

/// `argv` as a command that runs in `quota`'s cgroup from its first instruction (`sh` writes
/// its own pid there, then `exec`s it), or as is.
pub(super) fn command_in(quota: Option<&Quota>, argv: &[OsString]) -> Command {
    match quota {
        Some(q) => {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", r#"echo $$ > "$0" && exec "$@""#])
                .arg(q.procs())
                .args(argv);
            cmd
        }
        None => {
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]);
            cmd
        }
    }
}

/// `target/bench/<name>.log`, created afresh, for a server's stderr.
pub(super) fn log_file(name: &str) -> Result<(PathBuf, fs::File)> {
    let log = Path::new("target/bench").join(format!("{name}.log"));
    let file = fs::create_dir_all("target/bench")
        .and_then(|()| fs::File::create(&log))
        .map_err(|e| format!("{}: {e}", log.display()))?;
    Ok((log, file))
}

/// A server started for a measurement. Fields drop in order: the server first, then its
/// cgroup and data directory.
pub(super) struct Running {
    pub(super) server: Server,
    pub(super) quota: Option<Quota>,
    data: Option<PathBuf>,
    /// Its stderr (`target/bench/<kind>.log`).
    pub(super) log: PathBuf,
}

impl Running {
    /// Start `kind` (Tandem from `tandem_bin`) pinned to `SERVER_CORE`; in a 0.5-CPU cgroup
    /// when `capped` and one can be made (else says so loudly, and `quota` is `None`).
    pub(super) fn start(kind: Kind, tandem_bin: &Path, capped: bool) -> Result<Running> {
        let quota = match capped.then(|| Quota::create(kind.name())) {
            Some(Ok(q)) => Some(q),
            Some(Err(why)) => {
                println!(
                    "\n!!! NO CPU QUOTA for {}: {why}\n!!! figures below are UNQUOTED",
                    kind.name()
                );
                None
            }
            None => None,
        };
        let mut argv: Vec<OsString> = vec![
            "taskset".into(),
            "-c".into(),
            SERVER_CORE.to_string().into(),
        ];
        let mut data = None;
        match kind {
            Kind::Tandem => {
                let dir = tempdir(&format!("bench-{}", kind.name()))?;
                argv.push(tandem_bin.into());
                // The default configuration but for the per-client limits (README).
                let args = ["--listen", "127.0.0.1:0"];
                let more = ["--data-dir"];
                let all = args.iter().chain(&NO_CLIENT_LIMITS).chain(&more);
                argv.extend(all.map(OsString::from));
                argv.push(dir.join("data").into());
                data = Some(dir);
            }
            Kind::Uws => {
                tools::ensure_uws()?;
                argv.push("node".into());
                argv.push(Path::new(tools::UWS_DIR).join("broadcast.mjs").into());
            }
            Kind::Naive => argv.push(Path::new(LOADGEN).with_file_name("tandem-baseline").into()),
        }
        let mut cmd = command_in(quota.as_ref(), &argv);
        let (log, file) = log_file(kind.name())?;
        cmd.env("RUST_LOG", "warn").stderr(file);
        let server = Server::launch(&mut cmd, kind.name())?;
        Ok(Running {
            server,
            quota,
            data,
            log,
        })
    }

    pub(super) fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.server.addr)
    }

    pub(super) fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// Lines of its log so far, and how many of them contain `needle`.
    pub(super) fn log_lines(&self, needle: &str) -> (usize, usize) {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines = text.lines().count();
        (lines, text.lines().filter(|l| l.contains(needle)).count())
    }

    /// Stop the server; remove its cgroup and data.
    pub(super) fn stop(self) -> Result {
        let Running {
            server,
            quota,
            data,
            log: _,
        } = self;
        let stopped = server.stop();
        drop(quota);
        if let Some(dir) = data {
            let _ = fs::remove_dir_all(dir);
        }
        stopped
    }
}
