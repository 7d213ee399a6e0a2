//! [`Redis`]: one private `redis-server` on a free loopback port, without persistence, its
//! working dir a temp dir; killed by PID.

use crate::proc::{self, free_port, Watchdog};
use std::{
    fs, io,
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};
use tempfile::TempDir;

/// How long a started server may take to answer PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries at a first start: a free port can be taken by someone else before we bind it.
const PORT_TRIES: usize = 5;

/// One private Redis, killed (SIGKILL) on drop.
pub struct Redis {
    /// Its working dir (`--dir`) and `redis.log`.
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    /// The server while it runs: ours, so kill and wait by its PID.
    child: Option<Child>,
    /// Kills the server (by the PID in `redis.pid`) and removes `dir` if this process dies
    /// without dropping us.
    _watchdog: Watchdog,
}

impl Redis {
    /// Start a server on a free 127.0.0.1 port and wait until it answers PING.
    pub fn start() -> io::Result<Redis> {
        let bin = proc::find_in_path("redis-server", &["/usr/bin", "/usr/sbin", "/usr/local/bin"])
            .ok_or_else(|| proc::not_installed("redis-server", "redis-server"))?;
        let dir = tempfile::Builder::new()
            .prefix("testbed-redis-")
            .tempdir()?;
        let quoted = proc::sh_quote(dir.path());
        let watchdog = Watchdog::spawn(&format!(
            "read -r pid < {quoted}/redis.pid; [ -n \"$pid\" ] && kill -KILL \"$pid\"
rm -rf {quoted}"
        ))?;
        let mut redis = Redis {
            dir,
            bin,
            port: 0,
            child: None,
            _watchdog: watchdog,
        };
        let mut tries = 0;
        loop {
            redis.port = free_port()?;
            match redis.spawn() {
                Ok(()) => return Ok(redis),
                Err(e) if tries + 1 >= PORT_TRIES => return Err(e),
                Err(_) => tries += 1,
            }
        }
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on (the same across [`Redis::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kill the server (SIGKILL, by its PID) and wait for it to exit. Does nothing if it is
    /// not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Errors: it has exited already; wait reaps it either way.
            let _ = child.kill();
            let _ = child.wait();
            // Its PID may be reused now: the watchdog must not find it.
            let _ = fs::remove_file(self.pid_path());
        }
    }

    /// Kill the server if it runs, then start it again, empty, on the same port.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.spawn()
    }

    /// The server's PID while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether it answers PING now.
    pub fn ping(&self) -> bool {
        ping(self.port)
    }

    #[cfg(test)]
    pub(crate) fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn pid_path(&self) -> PathBuf {
        self.dir.path().join("redis.pid")
    }

    /// Start the server on `self.port` and wait until it answers; on failure it is killed and
    /// the error has its log.
    fn spawn(&mut self) -> io::Result<()> {
        let log = self.dir.path().join("redis.log");
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(&log)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        // For the watchdog, before anything can fail.
        let written = fs::write(self.pid_path(), format!("{}\n", child.id()));
        self.child = Some(child);
        if let Err(e) = written {
            self.kill();
            return Err(e);
        }
        let port = self.port;
        let mut exited = false;
        let ready = proc::wait_until(READY_TIMEOUT, || {
            exited = self
                .child
                .as_mut()
                .is_none_or(|child| child.try_wait().ok().flatten().is_some());
            exited || ping(port)
        });
        if ready && !exited {
            return Ok(());
        }
        self.kill();
        let log = fs::read_to_string(&log).unwrap_or_default();
        Err(io::Error::other(format!(
            "redis-server on port {port} did not answer PING (exited: {exited}); its log:\n{log}"
        )))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a Redis on 127.0.0.1:`port` answers `PING` with `+PONG`, in the inline protocol.
pub(crate) fn ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let timeout = Duration::from_millis(500);
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && reply == *b"+PONG\r\n"
}
