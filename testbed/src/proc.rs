//! What both servers need from the machine: their binaries, a free port, who we run as, and
//! running a command to completion with its output in the error.

use std::{
    io,
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

/// A port nobody listens on right now: bound on 127.0.0.1 by the OS, then released. Another
/// process may take it before the server does; callers that can retry with a new one do.
pub(crate) fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether this process runs as root (effective uid 0), read from `/proc/self/status`
/// (its `Uid:` line: real, effective, saved, filesystem).
pub(crate) fn is_root() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// `name` in one of the `PATH` directories, else in `fallback`.
pub(crate) fn find_in_path(name: &str, fallback: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(fallback.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The "not installed" error, naming the Debian package that provides `what`.
pub(crate) fn not_installed(what: &str, package: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{what} not found: install the Debian package `{package}` (apt-get install -y {package})"),
    )
}

/// Run `cmd` to completion; its failure becomes an error carrying what it printed.
pub(crate) fn run(cmd: &mut Command) -> io::Result<Output> {
    let output = cmd
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("{:?}: {e}", cmd.get_program())))?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "{cmd:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(output)
}

/// Make `dir` and everything in it belong to `user` (and its group), with the `chown` binary.
pub(crate) fn chown(dir: &Path, user: &str) -> io::Result<()> {
    run(Command::new("chown")
        .arg("-R")
        .arg(format!("{user}:"))
        .arg(dir))
    .map(drop)
}

/// Send SIGKILL to `pid` (a process we started) with the `kill` binary, ignoring "no such
/// process": it is gone either way.
pub(crate) fn kill_pid(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .output();
}

/// Retry `ready` every 50 ms until it is true or `timeout` has passed.
pub(crate) fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process that cleans up after us if we die without dropping what we started (a test
/// killed by a timeout, or aborted): it waits for this process to end, then runs `cleanup`.
/// Dropping it (the normal end) kills it instead, and nothing runs.
pub(crate) struct Watchdog(Child);

impl Watchdog {
    /// `cleanup` is a `sh` script; it should only stop what we started, by the PIDs we
    /// recorded, and remove our temp dir.
    pub(crate) fn spawn(cleanup: &str) -> io::Result<Watchdog> {
        // It ignores the signals a Ctrl-C or a timeout sends to our process group, and takes a
        // zombie (an orphan PID 1 may never reap) for dead. Builtins only, but for `sleep`.
        let script = format!(
            "trap '' INT TERM HUP
while read -r stat < /proc/$1/stat 2>/dev/null; do
    state=${{stat##*') '}}
    [ \"${{state%% *}}\" = Z ] && break
    sleep 1
done
{cleanup}"
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("testbed-watchdog")
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Watchdog(child))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Errors: it has exited already; wait reaps it either way.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `path` quoted for `sh`.
pub(crate) fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}
