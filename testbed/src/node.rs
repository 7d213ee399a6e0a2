//! A Tandem node as a process of the server binary, for the tests that kill one
//! (`kill -9`): started with the cluster's flags on the given Postgres and Redis, its
//! address read from the line it prints once it listens, killed by PID when dropped.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Node {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Node {
    /// Start `bin` as node `i` of the cluster on `db` and `redis`: its own data directory and
    /// the shared identity key under `dir`, then `extra` flags (the listen address among
    /// them, or `127.0.0.1:0`).
    pub fn spawn(
        bin: &Path,
        dir: &Path,
        i: usize,
        (db, redis): (&str, &str),
        extra: &[&str],
    ) -> io::Result<Node> {
        let mut args: Vec<OsString> =
            vec!["--data-dir".into(), dir.join(format!("node{i}")).into()];
        args.extend(["--secret-file".into(), dir.join("secret.key").into()]);
        args.extend(["--postgres", db, "--redis", redis].map(OsString::from));
        if !extra.contains(&"--listen") {
            args.extend(["--listen", "127.0.0.1:0"].map(OsString::from));
        }
        args.extend(extra.iter().map(OsString::from));
        let mut child = Command::new(bin)
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        // "Tandem is running: open http://127.0.0.1:PORT/"
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        let node = Node {
            child: Some(child),
            addr,
        };
        if !node.addr.contains(':') {
            return Err(io::Error::other(format!(
                "node {i} did not start: {line:?}"
            )));
        }
        Ok(node)
    }

    /// `kill -9`, and reap it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}
