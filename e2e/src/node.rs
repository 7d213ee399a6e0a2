//! A stock Yjs client beside the browsers: `server/tests/yjs-interop/browser-peer.mjs` (an
//! editor) or `caret-peer.mjs` (a stock editor's remote-caret plugin) run under Node.js with
//! `yjs` + `y-websocket` from npm, pinned by that folder's `package-lock.json` (the packages
//! the server's own interop test uses).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};
use tokio::process::{Child, Command};

/// `server/tests/yjs-interop` in the workspace.
pub fn interop_dir() -> PathBuf {
    crate::workspace_root().join("server/tests/yjs-interop")
}

/// Check that `node` runs and that `dir`'s npm packages are there (`cargo xtask test`
/// installs them with `npm ci`).
pub fn require_packages(dir: &Path) {
    let hint = "this test needs Node.js 18+ on the PATH (Debian: apt-get install nodejs npm) \
                and the pinned packages, which `cargo xtask test` installs (or: npm ci --prefix \
                server/tests/yjs-interop)";
    let version = std::process::Command::new("node")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): {hint}"));
    assert!(version.status.success(), "node --version failed: {hint}");
    let present = ["y-websocket", "yjs", "ws"].iter().all(|p| {
        dir.join("node_modules")
            .join(p)
            .join("package.json")
            .is_file()
    });
    assert!(present, "{} lacks its npm packages: {hint}", dir.display());
}

/// A running peer script; killed if dropped before it finished.
pub struct NodePeer {
    child: Child,
}

/// How the peer ended.
#[derive(Debug)]
pub struct Finished {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The text the peer printed on success (`ok <JSON string>`).
    pub fn final_text(&self) -> Option<String> {
        let line = self.stdout.lines().find_map(|l| l.strip_prefix("ok "))?;
        serde_json::from_str(line).ok()
    }

    /// What `caret-peer.mjs` read of the page's caret (`read <JSON>`): `anchor`, `head` (the
    /// indexes it resolved to), `length` (the text's) and `cursor` (as received).
    pub fn caret_read(&self) -> Option<serde_json::Value> {
        let line = self.stdout.lines().find_map(|l| l.strip_prefix("read "))?;
        serde_json::from_str(line).ok()
    }
}

impl NodePeer {
    /// Start the peer on `{ws_base}/{room}` as `name`: it appends `marker` to the room's text
    /// (its caret just after), then waits until the text contains `awaited` and exits
    /// (giving up after `timeout`). Installs the npm packages first if needed.
    pub async fn start(
        ws_base: &str,
        room: &str,
        name: &str,
        marker: &str,
        awaited: &str,
        timeout: Duration,
    ) -> NodePeer {
        Self::script(
            "browser-peer.mjs",
            &[ws_base, room, name, marker, awaited],
            timeout,
        )
        .await
    }

    /// Start `caret-peer.mjs` on `{ws_base}/{room}` as `name`: a stock editor's remote-caret
    /// plugin that waits until the text is `text` and reads `page_name`'s caret there as
    /// y-codemirror.next does, expecting the end of the text; then publishes its own
    /// selection (start to end of the text) the stock way, and exits once the text contains
    /// `done` (giving up after `timeout`). Its `read …` line: [`Finished::caret_read`].
    pub async fn caret_reader(
        ws_base: &str,
        room: &str,
        name: &str,
        page_name: &str,
        text: &str,
        done: &str,
        timeout: Duration,
    ) -> NodePeer {
        Self::script(
            "caret-peer.mjs",
            &[ws_base, room, name, page_name, text, done],
            timeout,
        )
        .await
    }

    /// Run `script` from the interop folder with `args` and the timeout (ms) last.
    async fn script(script: &str, args: &[&str], timeout: Duration) -> NodePeer {
        let dir = interop_dir();
        require_packages(&dir);
        let child = Command::new("node")
            .arg(script)
            .args(args)
            .arg(timeout.as_millis().to_string())
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start node {script}: {e}"));
        NodePeer { child }
    }

    /// Whether it has exited already.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Wait for it to exit (at most `timeout`, then kill it) and collect its output.
    pub async fn finish(self, timeout: Duration) -> Finished {
        match tokio::time::timeout(timeout, self.child.wait_with_output()).await {
            Ok(Ok(out)) => Finished {
                success: out.status.success(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
            Ok(Err(e)) => panic!("waiting for the Node peer: {e}"),
            // The child was moved into the dropped future, which kills it (kill_on_drop).
            Err(_) => panic!("the Node peer did not finish within {timeout:?}"),
        }
    }
}
