//! [`Postgres`]: one private cluster (`initdb` in a temp dir, `pg_ctl` on a free loopback
//! port, its socket in that dir), with the superuser `tandem` and a database `tandem`.

use crate::proc::{self, free_port, run, Watchdog};
use std::{
    fs, io,
    path::{Path, PathBuf},
    process::Command,
};
use tempfile::TempDir;

/// The superuser `initdb` creates, and the database `start` creates for it.
const USER: &str = "tandem";
/// How long `pg_ctl` may wait for the server to start or stop, in seconds.
const PG_CTL_WAIT_S: &str = "20";
/// Tries at a first start: a free port can be taken by someone else before we bind it.
const PORT_TRIES: usize = 5;

/// One private Postgres cluster, stopped (`-m immediate`) and deleted on drop.
///
/// As root (Postgres refuses to run as root) the server's own programs run as the `postgres`
/// user through `runuser`, and the temp dir is handed to that user; clients (`psql`,
/// `createdb`) connect over TCP with trust authentication, as whoever we are.
pub struct Postgres {
    /// `data/` (the cluster), `server.log`, and the Unix socket.
    dir: TempDir,
    /// Where `initdb`, `pg_ctl`, `psql` and `createdb` are.
    bin: PathBuf,
    port: u16,
    /// Whether the server's programs run as the `postgres` user (we are root).
    as_postgres: bool,
    /// Whether we started the server and have not stopped it since.
    running: bool,
    /// Stops the server and removes `dir` if this process dies without dropping us.
    _watchdog: Watchdog,
}

impl Postgres {
    /// Create a cluster in a new temp dir and start it on a free 127.0.0.1 port, with a
    /// database `tandem` owned by the superuser `tandem`.
    pub fn start() -> io::Result<Postgres> {
        let bin = bindir()?;
        let as_postgres = proc::is_root();
        let dir = tempfile::Builder::new().prefix("testbed-pg-").tempdir()?;
        if as_postgres {
            proc::chown(dir.path(), "postgres")?;
        }
        // SIGQUIT: the immediate shutdown, as `pg_ctl stop -m immediate` sends it.
        let quoted = proc::sh_quote(dir.path());
        let watchdog = Watchdog::spawn(&format!(
            "read -r pid < {quoted}/data/postmaster.pid; [ -n \"$pid\" ] && kill -QUIT \"$pid\"
sleep 2
rm -rf {quoted}"
        ))?;
        let mut pg = Postgres {
            dir,
            bin,
            port: 0,
            as_postgres,
            running: false,
            _watchdog: watchdog,
        };
        pg.initdb()?;
        let mut tries = 0;
        loop {
            pg.port = free_port()?;
            match pg.start_again() {
                Ok(()) => break,
                Err(e) if tries + 1 >= PORT_TRIES => return Err(e),
                Err(_) => tries += 1,
            }
        }
        pg.create_database(USER)?;
        Ok(pg)
    }

    /// The `tandem` database's URL: `postgres://tandem@127.0.0.1:PORT/tandem`.
    pub fn url(&self) -> String {
        self.url_of(USER)
    }

    /// The port the server listens on (the same across [`Postgres::start_again`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Create a fresh database `name` (letters, digits, `_`) and return its URL: tests that
    /// share one cluster each use their own.
    pub fn create_database(&self, name: &str) -> io::Result<String> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("database name {name:?}: letters, digits and _ only"),
            ));
        }
        let mut cmd = self.client("createdb");
        cmd.arg(name);
        run(&mut cmd)?;
        Ok(self.url_of(name))
    }

    /// Run `sql` with `psql` in database `db`; what it printed, unaligned, tuples only,
    /// trimmed (`SELECT 1` gives `"1"`).
    pub fn psql(&self, db: &str, sql: &str) -> io::Result<String> {
        let mut cmd = self.client("psql");
        cmd.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            db,
            "-c",
            sql,
        ]);
        let output = run(&mut cmd)?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Stop the server (`pg_ctl stop -m fast`): the "Postgres stopped" fault. Does nothing if
    /// it is not running.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        let pid = self.pid();
        let mut cmd = self.pg_ctl("stop");
        cmd.args(["-m", "fast"]);
        if run(&mut cmd).is_err() {
            // It did not stop in time: it is ours, by its PID.
            if let Some(pid) = pid {
                proc::kill_pid(pid);
                // Its PID may be reused now: the watchdog must not find it.
                let _ = fs::remove_file(self.data_dir().join("postmaster.pid"));
            }
        }
        self.running = false;
    }

    /// Start the server again on the same data and the same port (a first start does this
    /// too). Does nothing if it is running.
    pub fn start_again(&mut self) -> io::Result<()> {
        if self.running {
            return Ok(());
        }
        let options = format!(
            // fsync off: these clusters are thrown away, and no test crashes Postgres itself
            // (crash-durability tests kill our server, not the database), so what fsync
            // protects against never happens here, and tests run faster without it.
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='{}' \
             -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let mut cmd = self.pg_ctl("start");
        cmd.arg("-l").arg(self.log_path()).args(["-o", &options]);
        if let Err(e) = run(&mut cmd) {
            return Err(io::Error::new(
                e.kind(),
                format!("{e}\nserver log:\n{}", self.log_tail()),
            ));
        }
        self.running = true;
        Ok(())
    }

    /// The postmaster's PID while it runs (for CPU measurement).
    pub fn pid(&self) -> Option<u32> {
        if !self.running {
            return None;
        }
        let pidfile = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        pidfile.lines().next()?.trim().parse().ok()
    }

    fn url_of(&self, db: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{db}", self.port)
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The end of the server's log, for errors.
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn initdb(&self) -> io::Result<()> {
        let mut cmd = self.server_program("initdb");
        cmd.arg("-D")
            .arg(self.data_dir())
            .args(["-A", "trust", "-U", USER, "--no-sync"])
            .args(["-E", "UTF8", "--locale=C"]);
        run(&mut cmd).map(drop)
    }

    /// `pg_ctl ACTION` on our cluster, waiting for it to complete.
    fn pg_ctl(&self, action: &str) -> Command {
        let mut cmd = self.server_program("pg_ctl");
        cmd.arg(action)
            .arg("-D")
            .arg(self.data_dir())
            .args(["-w", "-t", PG_CTL_WAIT_S, "-s"]);
        cmd
    }

    /// One of the server's programs, run as `postgres` when we are root, from inside the
    /// temp dir (the `postgres` user may not be allowed into our working directory).
    fn server_program(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        };
        cmd.current_dir(self.dir.path()).env("LC_ALL", "C");
        cmd
    }

    /// A client program connected over TCP as the superuser.
    fn client(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(name));
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .env("PGCONNECT_TIMEOUT", "5")
            .env_remove("PGPASSWORD")
            .env_remove("PGSERVICE");
        cmd
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let pid = self.pid();
            let mut cmd = self.pg_ctl("stop");
            cmd.args(["-m", "immediate"]);
            if run(&mut cmd).is_err() {
                if let Some(pid) = pid {
                    proc::kill_pid(pid);
                }
                // (The watchdog goes with us, without looking at the PID file.)
            }
            self.running = false;
        }
        // Then `dir` is removed, with the cluster in it.
    }
}

/// The directory of Postgres's programs: the highest `/usr/lib/postgresql/*/bin` (Debian's
/// layout) with an `initdb`, else `pg_config --bindir`, else where `initdb` is on `PATH`.
fn bindir() -> io::Result<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let debian = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: Vec<u32> = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .max();
    if let Some((_, bin)) = debian {
        return Ok(bin);
    }
    let pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if let Some(bin) = pg_config.filter(|bin| has_tools(bin)) {
        return Ok(bin);
    }
    proc::find_in_path("initdb", &[])
        .and_then(|initdb| initdb.parent().map(Path::to_owned))
        .filter(|bin| has_tools(bin))
        .ok_or_else(|| proc::not_installed("PostgreSQL's initdb and pg_ctl", "postgresql"))
}
