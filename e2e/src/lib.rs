//! Harness for Tandem's multi-user end-to-end tests (`e2e/tests/`): the real server started
//! in-process through [`tandem_server::run`], real headless Chromium sessions driven over
//! WebDriver (chromedriver + fantoccini), and a TCP proxy that can cut one browser's network.
//!
//! The tests drive the page only through its `data-testid` attributes (see [`browser`]), so
//! they hold while the page's markup changes. They need the built client: run
//! `trunk build --release` (or `cargo xtask test`, which does) first.
//!
//! Module map: [`server`] (start, stop and restart on the same port), [`driver`] (the
//! chromedriver process), [`browser`] (one browser session: actions, screenshots), [`view`]
//! (what it reads off the page: chat and document snapshots), [`proxy`] (cut and restore),
//! [`wait`] (polling with deadlines), [`scenario`] (one at a time, screenshots, teardown),
//! [`node`] (a stock Yjs client under Node.js beside the browsers), [`page`] (scripts,
//! navigation, new tabs), [`trunk`] (`trunk serve` with its proxies pointed at the test
//! server, for the dev-loop test), [`console`] (the browser's console log, through
//! chromedriver), [`cluster`] (node processes on a private Postgres and Redis, one of them
//! killed).

pub mod browser;
pub mod cluster;
pub mod console;
pub mod driver;
pub mod node;
pub mod page;
pub mod proxy;
pub mod scenario;
pub mod server;
pub mod trunk;
pub mod view;
pub mod wait;

use std::path::PathBuf;

/// The workspace root (this crate lives in `e2e/`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // unwrap: the manifest directory always has a parent (the workspace root).
    manifest.parent().unwrap().to_owned()
}

/// Where screenshots go: `target/artifacts/e2e/` under the workspace.
pub fn artifacts_dir() -> PathBuf {
    workspace_root().join("target/artifacts/e2e")
}
