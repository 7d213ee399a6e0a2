//! Tidy: repository policy as tests (run by `cargo test --workspace`, so by `cargo xtask
//! test`). Each one keeps a structural promise of ARCHITECTURE.md or README.md true:
//!
//! - the client's model imports neither yew nor any browser API;
//! - no component imports the root component;
//! - no source file is over 400 lines;
//! - every path ARCHITECTURE.md names exists;
//! - every server flag is in README's table;
//! - `shared` depends on serde only.

use std::path::{Path, PathBuf};

/// The longest a source file may be.
const MAX_LINES: usize = 400;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs` file under `dir`, skipping build output and installed packages.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !matches!(&*name, "target" | "node_modules" | "dist" | "data")
                    && !name.starts_with('.')
                {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The lines of `files` that mention any of `needles` outside comments, as "file:line: text".
fn mentions(files: &[PathBuf], needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        for (n, line) in read(file).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if needles.iter().any(|needle| code.contains(needle)) {
                found.push(format!("{}:{}: {}", relative(file), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_client_model_imports_no_yew_and_no_browser_api() {
    let files = rust_files(&root().join("client/src/model"));
    assert!(files.len() >= 5, "the model is in client/src/model/");
    let browser = [
        "yew",
        "web_sys",
        "js_sys",
        "gloo",
        "wasm_bindgen",
        "crate::app",
        "crate::net",
        "crate::components",
        "crate::browser",
    ];
    let found = mentions(&files, &browser);
    assert!(
        found.is_empty(),
        "the model must stay pure (no yew, no browser API, no IO):\n{}",
        found.join("\n")
    );
}

#[test]
fn no_component_imports_the_root() {
    let files = rust_files(&root().join("client/src/components"));
    assert!(
        !files.is_empty(),
        "components are in client/src/components/"
    );
    let found = mentions(
        &files,
        &["crate::app", "super::app", "app::App", "app::Msg"],
    );
    assert!(
        found.is_empty(),
        "components talk to the root through props and callbacks only:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_source_file_is_over_the_limit() {
    let long: Vec<String> = rust_files(&root())
        .into_iter()
        .filter_map(|f| {
            let lines = read(&f).lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", relative(&f)))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them):\n{}",
        long.join("\n")
    );
}

/// The `backticked` words of `text`.
fn backticked(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

/// A backticked word that names a file or folder: a path with a `/`, or a file name.
fn looks_like_path(word: &str) -> bool {
    let file_ext = [".rs", ".toml", ".md", ".json", ".mjs", ".html", ".css"];
    !word.contains(' ')
        && !word.contains("://")
        && !word.starts_with('/')
        && !word.contains('<')
        && (word.contains('/') || file_ext.iter().any(|e| word.ends_with(e)))
}

/// Where `word` is, if it exists: from the root, or from the folder the bullet is talking
/// about (`base`) or one of its parents.
fn find(root: &Path, base: &Path, word: &str) -> Option<PathBuf> {
    let mut dirs = vec![root.to_owned()];
    dirs.extend(
        base.ancestors()
            .take_while(|d| d.starts_with(root))
            .map(Path::to_owned),
    );
    dirs.into_iter().map(|d| d.join(word)).find(|p| p.exists())
}

#[test]
fn every_path_architecture_names_exists() {
    let root = root();
    let text = read(&root.join("ARCHITECTURE.md"));
    let mut missing = Vec::new();
    let mut checked = 0;
    // A bullet of the code map names its folder first; the names after it are in it.
    for bullet in text.split("\n- ") {
        let mut base = root.clone();
        for word in backticked(bullet).filter(|w| looks_like_path(w)) {
            checked += 1;
            match find(&root, &base, word) {
                Some(path) if path.is_dir() => base = path,
                Some(path) if word.contains('/') => {
                    base = path.parent().map_or(root.clone(), Path::to_owned)
                }
                Some(_) => {}
                None => missing.push(format!("`{word}` (from {})", relative(&base))),
            }
        }
    }
    assert!(
        checked > 20,
        "ARCHITECTURE.md names its files ({checked} found)"
    );
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist:\n{}",
        missing.join("\n")
    );
}

/// The long flags `Config` declares (clap derive: `#[arg(long …)]` above `pub field:`).
fn server_flags() -> Vec<String> {
    let config = read(&root().join("server/src/config.rs"));
    let mut flags = Vec::new();
    let mut arg = String::new();
    for line in config.lines().map(str::trim) {
        if line.starts_with("#[arg(") || !arg.is_empty() && !line.starts_with("pub ") {
            arg.push_str(line);
            continue;
        }
        if let (false, Some(field)) = (arg.is_empty(), line.strip_prefix("pub ")) {
            let field = field.split(':').next().unwrap_or("").trim();
            let explicit = arg
                .split("long = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next());
            if arg.contains("long") {
                flags.push(format!(
                    "--{}",
                    explicit.map_or_else(|| field.replace('_', "-"), str::to_owned)
                ));
            }
            arg.clear();
        }
    }
    flags
}

#[test]
fn every_server_flag_is_in_the_readme_table() {
    let flags = server_flags();
    assert!(flags.len() >= 10, "flags found in config.rs: {flags:?}");
    let readme = read(&root().join("README.md"));
    let table: String = readme
        .lines()
        .filter(|l| l.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");
    let missing: Vec<&String> = flags
        .iter()
        .filter(|f| !backticked(&table).any(|w| w == f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "server flags missing from README's flag table: {missing:?}"
    );
}

#[test]
fn shared_depends_on_serde_only() {
    let manifest = read(&root().join("shared/Cargo.toml"));
    let mut section = "";
    let mut deps = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[dependencies]" && !line.is_empty() && !line.starts_with('#') {
            deps.push(
                line.split(['=', '.'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned(),
            );
        }
    }
    assert_eq!(deps, ["serde"], "shared/Cargo.toml [dependencies]");
}
