//! The chromedriver process: started by the test on a free port, in a process group of its
//! own, and killed (with any browser it left behind) by that group's id on drop.

use std::{
    net::TcpStream,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    /// Start `$CHROMEDRIVER` (default `/usr/bin/chromedriver`) and wait until it listens.
    /// Its log goes to `log`.
    pub fn start(log: &Path) -> Chromedriver {
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        assert!(
            Path::new(&bin).is_file(),
            "{bin} not found: the e2e tests need Debian's chromium and chromium-driver \
             (`cargo xtask test` installs them; or `apt-get install chromium chromium-driver`)"
        );
        // Free now; chromedriver takes it a moment later (a port taken in between fails
        // loudly below rather than silently).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        if let Some(dir) = log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that the browsers it starts can be ended with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{bin} exited with {status} (see {})", log.display());
            }
            assert!(
                Instant::now() < deadline,
                "{bin} did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Chromedriver { child, port }
    }

    /// The WebDriver endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (process_group(0) above).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
