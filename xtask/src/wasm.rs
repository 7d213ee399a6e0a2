//! `cargo xtask strip-wasm`: trunk's `post_build` hook (`Trunk.toml`). It rewrites each staged
//! `.wasm` without its custom sections, which the browser never reads (in the release client:
//! `name`, ~190 KB of function names, `producers` and `target_features`), and updates the
//! page's subresource-integrity hash for it.
//!
//! Why here: trunk 0.21 passes wasm-bindgen no `--remove-name-section` and has no attribute
//! for it; wasm-opt, which would strip, is off (it cannot read this rustc's output); and
//! `strip = "symbols"` in the cargo profile also drops the `target_features` section that
//! wasm-bindgen reads to pick the wasm features it may use (it warns). Trunk hashes the wasm
//! for the `integrity` of its `<link rel="preload">` before post-build hooks run, so the hook
//! replaces that hash too: a stale one would make the browser discard the preload.
//!
//! The sections are copied byte for byte (`wasmparser` finds them, `wasm-encoder` writes them
//! back), so the code the browser runs is exactly what wasm-bindgen produced.

use crate::Result;
use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::path::{Path, PathBuf};
use wasmparser::{Encoding, Parser, Payload};

/// Strip the `.wasm` files in `dir` (default: `$TRUNK_STAGING_DIR`, which trunk sets for its
/// hooks) and update the `.html` files there that reference them.
pub(crate) fn strip_wasm(args: &[String]) -> Result {
    let dir = match (args.first(), std::env::var_os("TRUNK_STAGING_DIR")) {
        (Some(dir), _) => PathBuf::from(dir),
        (None, Some(dir)) => PathBuf::from(dir),
        (None, None) => {
            return Err(
                "strip-wasm: no folder: trunk runs it as a post_build hook with \
                        TRUNK_STAGING_DIR set (Trunk.toml); by hand, pass one: \
                        `cargo xtask strip-wasm dist`"
                    .into(),
            )
        }
    };
    let files = files_in(&dir)?;
    let mut html: Vec<(PathBuf, String)> = Vec::new();
    for path in files.iter().filter(|p| has_ext(p, "html")) {
        html.push((path.clone(), read_text(path)?));
    }
    for path in files.iter().filter(|p| has_ext(p, "wasm")) {
        let before = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (after, removed) = strip_custom_sections(&before)
            .map_err(|e| format!("strip-wasm: {}: {e}", path.display()))?;
        if removed.is_empty() {
            continue;
        }
        std::fs::write(path, &after).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (html_path, text) in &mut html {
            *text = update_integrity(text, &name, &before, &after)
                .map_err(|e| format!("strip-wasm: {}: {e}", html_path.display()))?;
        }
        println!(
            "strip-wasm: {name}: {} -> {} bytes without custom sections {}",
            before.len(),
            after.len(),
            removed.join(", ")
        );
    }
    for (path, text) in &html {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    // Trunk says which profile it built; by hand (a folder given), compress too.
    let release = std::env::var("TRUNK_PROFILE").map_or(true, |p| p == "release");
    if release {
        crate::compress::precompress(&dir)?;
    }
    Ok(())
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e == ext)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The module without its custom sections, and the names of those removed (in order).
/// Every other section is copied unchanged, in its place.
pub(crate) fn strip_custom_sections(wasm: &[u8]) -> Result<(Vec<u8>, Vec<String>)> {
    let mut module = wasm_encoder::Module::new();
    let mut removed = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| format!("not a wasm module: {e}"))? {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => return Err("a wasm component, not a core module".into()),
            Payload::CustomSection(section) => removed.push(section.name().to_owned()),
            payload => {
                if let Some((id, range)) = payload.as_section() {
                    module.section(&wasm_encoder::RawSection {
                        id,
                        data: &wasm[range],
                    });
                }
            }
        }
    }
    Ok((module.finish(), removed))
}

/// The subresource-integrity values (`sha256-…`, `sha384-…`, `sha512-…`) of `bytes`.
fn integrities(bytes: &[u8]) -> [String; 3] {
    [
        format!("sha256-{}", STANDARD.encode(Sha256::digest(bytes))),
        format!("sha384-{}", STANDARD.encode(Sha384::digest(bytes))),
        format!("sha512-{}", STANDARD.encode(Sha512::digest(bytes))),
    ]
}

/// `html` with every integrity value of `before` replaced by the same algorithm's value of
/// `after`. Fails if a tag that references `file` still carries an integrity that is not
/// `after`'s (trunk wrote something this did not expect).
pub(crate) fn update_integrity(
    html: &str,
    file: &str,
    before: &[u8],
    after: &[u8],
) -> Result<String> {
    let (old, new) = (integrities(before), integrities(after));
    let mut html = html.to_owned();
    for (old, new) in old.iter().zip(&new) {
        html = html.replace(old.as_str(), new);
    }
    let mut rest = html.as_str();
    while let Some(at) = rest.find(file) {
        let start = rest[..at].rfind('<').unwrap_or(0);
        let end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
        let tag = &rest[start..end];
        if let Some(value) = tag
            .split("integrity=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
        {
            if !new.iter().any(|n| n == value) {
                return Err(format!(
                    "the tag referencing {file} has integrity {value:?}, which is neither the \
                     unstripped file's nor the stripped one's: {tag}>"
                ));
            }
        }
        rest = &rest[end..];
    }
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use wasm_encoder::{
        CodeSection, CustomSection, Function, FunctionSection, Instruction, Module, TypeSection,
        ValType,
    };

    /// A module with one function (type, function and code sections), and custom sections
    /// before, between and after them.
    fn module(with_custom: bool) -> Vec<u8> {
        let custom = |name: &'static str| CustomSection {
            name: Cow::Borrowed(name),
            data: Cow::Borrowed(b"\x01\x02\x03"),
        };
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I64]);
        let mut functions = FunctionSection::new();
        functions.function(0);
        let mut body = Function::new([]);
        body.instruction(&Instruction::I64Const(7));
        body.instruction(&Instruction::End);
        let mut code = CodeSection::new();
        code.function(&body);
        let mut m = Module::new();
        if with_custom {
            m.section(&custom("producers"));
        }
        m.section(&types);
        if with_custom {
            m.section(&custom("target_features"));
        }
        m.section(&functions);
        m.section(&code);
        if with_custom {
            m.section(&custom("name"));
        }
        m.finish()
    }

    #[test]
    fn custom_sections_go_and_the_rest_stays_byte_for_byte() {
        let (stripped, removed) = strip_custom_sections(&module(true)).unwrap();
        assert_eq!(stripped, module(false));
        assert_eq!(removed, ["producers", "target_features", "name"]);
        let (again, removed) = strip_custom_sections(&stripped).unwrap();
        assert_eq!(again, stripped);
        assert!(removed.is_empty());
    }

    #[test]
    fn not_wasm_is_an_error() {
        assert!(strip_custom_sections(b"<!doctype html>").is_err());
    }

    #[test]
    fn the_preload_integrity_follows_the_stripped_file() {
        let (before, after) = (module(true), module(false));
        let [_, old, _] = integrities(&before);
        let [_, new, _] = integrities(&after);
        let html = format!(
            r#"<link rel="modulepreload" href="/c.js" integrity="sha384-js"><link rel="preload" href="/c_bg.wasm" integrity="{old}" as="fetch">"#
        );
        let got = update_integrity(&html, "c_bg.wasm", &before, &after).unwrap();
        assert_eq!(got, html.replace(&old, &new));
        assert!(got.contains(r#"integrity="sha384-js""#), "{got}");
    }

    #[test]
    fn an_unexpected_integrity_is_an_error() {
        let html = r#"<link rel="preload" href="/c_bg.wasm" integrity="sha384-other">"#;
        let err = update_integrity(html, "c_bg.wasm", &module(true), &module(false)).unwrap_err();
        assert!(err.contains("sha384-other"), "{err}");
    }

    #[test]
    fn no_integrity_is_fine() {
        let html = r#"<script>init('/c_bg.wasm')</script>"#;
        let got = update_integrity(html, "c_bg.wasm", &module(true), &module(false)).unwrap();
        assert_eq!(got, html);
    }
}
