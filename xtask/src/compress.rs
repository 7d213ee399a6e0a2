//! Precompression, run by trunk's post-build hook after `strip-wasm`: every `.wasm`, `.js`
//! and `.css` of the staged build gets a brotli (`.br`, quality 11) and a gzip (`.gz`, level
//! 9) sibling, which the server sends to browsers that accept them (server/src/assets.rs).
//! Only for release builds: `trunk serve`'s rebuilds stay quick.

use crate::Result;
use std::io::Write;
use std::path::Path;

/// The extensions worth compressing (the page is small and served `no-cache`).
const EXTS: [&str; 3] = ["wasm", "js", "css"];

pub(crate) fn precompress(dir: &Path) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let wanted = path
            .extension()
            .is_some_and(|e| EXTS.iter().any(|x| e == *x));
        if !path.is_file() || !wanted {
            continue;
        }
        let raw = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let br = brotli_bytes(&raw)?;
        let gz = gzip_bytes(&raw)?;
        for (ext, bytes) in [("br", &br), ("gz", &gz)] {
            let mut name = path.clone().into_os_string();
            name.push(".");
            name.push(ext);
            std::fs::write(&name, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        println!(
            "precompress: {}: {} bytes, brotli {}, gzip {}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            raw.len(),
            br.len(),
            gz.len()
        );
    }
    Ok(())
}

fn brotli_bytes(raw: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params).map_err(|e| format!("brotli: {e}"))?;
    Ok(out)
}

fn gzip_bytes(raw: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(raw).map_err(|e| format!("gzip: {e}"))?;
    enc.finish().map_err(|e| format!("gzip: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn both_siblings_decode_to_the_original() {
        let dir = tempfile_dir();
        let raw: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        std::fs::write(dir.join("app-0123456789abcdef.wasm"), &raw).unwrap();
        std::fs::write(dir.join("index.html"), "<html></html>").unwrap();
        precompress(&dir).unwrap();
        let br = std::fs::read(dir.join("app-0123456789abcdef.wasm.br")).unwrap();
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
        assert_eq!(back, raw);
        let gz = std::fs::read(dir.join("app-0123456789abcdef.wasm.gz")).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, raw);
        assert!(br.len() < raw.len() / 4 && gz.len() < raw.len() / 2);
        assert!(
            !dir.join("index.html.br").exists(),
            "the page is not precompressed"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
