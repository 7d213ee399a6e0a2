//! Installing what the project needs when it is missing, and judging tool reports.

use crate::{sh, Result};
use std::{path::Path, path::PathBuf, process::Command};

const TRUNK_VERSION: &str = "0.21.14";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin").join(name)
}

pub(crate) fn trunk() -> PathBuf {
    cargo_bin("trunk")
}

/// The wasm-bindgen version `Cargo.lock` pins; the CLI must match it exactly.
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("wasm-bindgen not found in Cargo.lock".into())
}

fn cargo_install(krate: &str, version: &str) -> Result {
    let locked =
        sh(Command::new("cargo").args(["install", krate, "--version", version, "--locked"]));
    if locked.is_err() {
        // The registry mirror can lag behind a tool's own lockfile; resolve afresh.
        println!("retrying without --locked");
        sh(Command::new("cargo").args(["install", krate, "--version", version]))?;
    }
    Ok(())
}

fn apt_install(packages: &[&str]) -> Result {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            output(Command::new("dpkg-query").args(["-W", "-f=${Status}", p]))
                .is_none_or(|s| !s.contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo = output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() != "0");
    let apt = |args: &[&str]| {
        let mut cmd = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        sh(&mut cmd)
    };
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)
}

/// Install what is missing: always the wasm target, wasm-bindgen-cli and trunk; for tests
/// also the Python test tools (in a virtual environment under `target/`).
pub(crate) fn ensure_all(for_tests: bool) -> Result {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
        sh(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    let want = locked_wasm_bindgen()?;
    let have = output(Command::new(cargo_bin("wasm-bindgen")).arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(want.as_str()) {
        cargo_install("wasm-bindgen-cli", &want)?;
    }
    let have = output(Command::new(trunk()).arg("--version")).unwrap_or_default();
    if !have.contains(TRUNK_VERSION) {
        cargo_install("trunk", TRUNK_VERSION)?;
    }
    if for_tests {
        ensure_python_tools()?;
        ensure_browser()?;
        ensure_node()?;
        ensure_cluster_servers()?;
    }
    Ok(())
}

/// Debian's chromedriver: what the browser tests (wasm-bindgen-test) and the e2e suite drive.
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Headless Chromium and its WebDriver server, from Debian's packages.
fn ensure_browser() -> Result {
    apt_install(&["chromium", "chromium-driver"])?;
    if !Path::new(CHROMEDRIVER).exists() {
        return Err(format!(
            "{CHROMEDRIVER} is missing although chromium-driver is installed"
        ));
    }
    Ok(())
}

/// Redis and Postgres for the cluster tests and `cargo xtask bench --cluster`, from Debian's
/// packages. The tests never use the system services the packages may start: they start
/// private instances on free ports in temporary directories (the `testbed` crate).
pub(crate) fn ensure_cluster_servers() -> Result {
    apt_install(&["redis-server", "postgresql"])
}

/// The stock Yjs peers the interop, golden and e2e tests run under Node.js.
pub(crate) const INTEROP_DIR: &str = "server/tests/yjs-interop";

/// The uWebSockets.js raw-broadcast baseline `cargo xtask bench` runs under Node.js.
pub(crate) const UWS_DIR: &str = "loadgen/uws";

/// The interop folder's packages.
fn ensure_node() -> Result {
    ensure_npm_packages(INTEROP_DIR, &["yjs", "y-websocket", "ws"])
}

/// The uWebSockets.js baseline's package (`uWebSockets.js`, an alias of the version its
/// `package-lock.json` pins).
pub(crate) fn ensure_uws() -> Result {
    ensure_npm_packages(UWS_DIR, &["uWebSockets.js"])
}

/// Node.js and npm, and the packages of `dir` as its `package-lock.json` pins them (`npm ci`,
/// when any of `packages` is missing). The tests only check that they are there.
fn ensure_npm_packages(dir: &str, packages: &[&str]) -> Result {
    let ok = |cmd: &str| output(Command::new(cmd).arg("--version")).is_some();
    if !(ok("node") && ok("npm")) {
        apt_install(&["nodejs", "npm"])?;
    }
    let modules = Path::new(dir).join("node_modules");
    let installed = packages
        .iter()
        .all(|p| modules.join(p).join("package.json").is_file());
    if !installed {
        sh(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir))?;
    }
    Ok(())
}

const VENV: &str = "target/pyenv";

/// kosoku's console script (the package has no `__main__`).
pub(crate) fn kosoku() -> PathBuf {
    Path::new(VENV).join("bin/kosoku")
}

pub(crate) fn python() -> PathBuf {
    Path::new(VENV).join("bin/python")
}

/// The property-based API tester the test command holds the API to its OpenAPI with.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

pub(crate) fn schemathesis() -> PathBuf {
    Path::new(VENV).join("bin/schemathesis")
}

fn ensure_python_tools() -> Result {
    let have = output(Command::new(python()).args(["-c", "import kosoku, schemathesis"]));
    if have.is_some() {
        return Ok(());
    }
    if output(Command::new("python3").arg("--version")).is_none() {
        apt_install(&["python3"])?;
    }
    if sh(Command::new("python3").args(["-m", "venv", VENV])).is_err() {
        apt_install(&["python3-venv"])?;
        sh(Command::new("python3").args(["-m", "venv", VENV]))?;
    }
    sh(Command::new(python()).args(["-m", "pip", "install", "-q", "kosoku", SCHEMATHESIS]))
}

/// Judge kosoku's `index.json`: non-compression cases must be OK, NON-STRICT or
/// INFORMATIONAL (Autobahn's passing verdicts); compression cases (12.x, 13.x) must be
/// UNIMPLEMENTED, since the server offers no permessage-deflate.
pub(crate) fn judge_autobahn(dir: &Path) -> Result {
    let text = std::fs::read_to_string(dir.join("index.json"))
        .map_err(|e| format!("autobahn report: {e}"))?;
    let index: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("autobahn report: {e}"))?;
    let cases = index
        .as_object()
        .and_then(|agents| agents.values().next())
        .and_then(|v| v.as_object())
        .ok_or("autobahn report: no agent")?;
    let (mut passed, mut unimplemented, mut failed) = (0, 0, Vec::new());
    for (id, case) in cases {
        let verdict = |k: &str| case.get(k).and_then(|v| v.as_str()).unwrap_or("?");
        let (behavior, close) = (verdict("behavior"), verdict("behaviorClose"));
        let compression = id.starts_with("12.") || id.starts_with("13.");
        let good = |v: &str| matches!(v, "OK" | "NON-STRICT" | "INFORMATIONAL");
        if compression && behavior == "UNIMPLEMENTED" {
            unimplemented += 1;
        } else if !compression && good(behavior) && good(close) {
            passed += 1;
        } else {
            failed.push(format!("{id}: {behavior}/{close}"));
        }
    }
    println!(
        "autobahn: {passed} passed, {} failed ({unimplemented} compression cases unimplemented: no permessage-deflate offered)",
        failed.len()
    );
    if passed == 0 {
        return Err("autobahn ran no case".into());
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("autobahn failures: {}", failed.join(", ")))
    }
}
