//! What every scenario needs around its steps: running one at a time, screenshots of the
//! browsers at named moments, and the browsers' teardown (with a last screenshot when a step
//! failed).

use crate::{artifacts_dir, browser::Browser, driver::Chromedriver};
use futures_util::FutureExt;
use std::{cell::Cell, panic::AssertUnwindSafe, path::PathBuf};
use tokio::sync::{Mutex, MutexGuard};

/// One scenario at a time within a test binary: each runs up to two Chromiums, and CI has
/// two cores. (A Tokio mutex: the guard is held across the scenario's awaits; each test has
/// its own runtime, which a Tokio mutex does not mind. Cargo runs test binaries one after
/// another, so a static per binary serialises them all.)
pub async fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

/// A scenario's screenshots: `{artifacts}/{scenario}-{nn}-{moment}-{who}.png`.
pub struct Shots {
    scenario: &'static str,
    dir: PathBuf,
    next: Cell<u32>,
}

impl Shots {
    /// Removes this scenario's screenshots of an earlier run (they would be misleading next
    /// to these).
    pub fn new(scenario: &'static str) -> Shots {
        let dir = artifacts_dir();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(&format!("{scenario}-")) && name.ends_with(".png") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Shots {
            scenario,
            dir,
            next: Cell::new(1),
        }
    }

    /// Screenshot each browser; a failure to save one is reported, not fatal.
    pub async fn take(&self, moment: &str, browsers: &[&Browser]) {
        let n = self.next.get();
        self.next.set(n + 1);
        let name = format!("{}-{n:02}-{moment}", self.scenario);
        for b in browsers {
            if let Err(e) = b.screenshot(&self.dir, &name).await {
                eprintln!("screenshot {name}: {e}");
            }
        }
    }

    /// `{artifacts}/{scenario}-{what}.log`.
    pub fn log(&self, what: &str) -> PathBuf {
        self.dir.join(format!("{}-{what}.log", self.scenario))
    }
}

/// Start chromedriver and one browser per name in `who`, run `steps` with them, and end
/// them all. If a step panics, every browser is screenshot (`…-failed-…`) before the panic
/// goes on.
pub async fn with_browsers(shots: &Shots, who: &[&str], steps: impl AsyncFnOnce(&[Browser])) {
    let driver = Chromedriver::start(&shots.log("chromedriver"));
    let mut browsers = Vec::new();
    for name in who {
        browsers.push(Browser::open(&driver, name).await);
    }
    let outcome = AssertUnwindSafe(steps(&browsers)).catch_unwind().await;
    if outcome.is_err() {
        let all: Vec<&Browser> = browsers.iter().collect();
        shots.take("failed", &all).await;
    }
    for b in browsers {
        b.close().await;
    }
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
