//! How the built client goes over the wire: its precompressed siblings (`.br`, `.gz`, made
//! at build time by xtask) for a browser that accepts them, with `Content-Encoding` and
//! `Vary`, and caching by kind: hashed assets (`name-<16 hex>.ext`, trunk's names) are
//! `immutable` for a year; the page itself (`index.html`, and every path that serves it, such
//! as `/r/<room>`) is `no-cache`, so a new build is seen at once.

use actix_files::{NamedFile, PathBufWrap};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::middleware::Next;
use std::path::{Path, PathBuf};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// Whether a file name is one of trunk's hashed assets: `stem-<16 hex digits>.ext`.
fn is_hashed(name: &str) -> bool {
    let Some((stem, _ext)) = name.rsplit_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The encodings `accept` (an `Accept-Encoding` value) allows, best first: brotli, gzip.
fn accepted(accept: &str) -> Vec<(&'static str, ContentEncoding)> {
    let allows = |coding: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let q_zero = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !q_zero
        })
    };
    [
        ("br", ContentEncoding::Brotli),
        ("gz", ContentEncoding::Gzip),
    ]
    .into_iter()
    .filter(|(ext, _)| allows(if *ext == "gz" { "gzip" } else { "br" }))
    .collect()
}

/// The middleware: serves a precompressed sibling when there is one and it is accepted,
/// and sets `Cache-Control` on what the static service answers. `root` is the canonical
/// static directory; `leads_out` the static service's own filter (symbolic links).
pub(crate) async fn serve(
    root: Option<PathBuf>,
    leads_out: fn(&Path, &Path) -> bool,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = req.path().to_owned();
    let name = path.rsplit('/').next().unwrap_or("").to_owned();
    let hashed = is_hashed(&name);
    if let (true, Some(root)) = (
        hashed && req.method() == actix_web::http::Method::GET,
        &root,
    ) {
        let accept = req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if let Ok(rel) = PathBufWrap::parse_path(path.trim_start_matches('/'), false) {
            let rel: &Path = rel.as_ref();
            for (ext, coding) in accepted(&accept) {
                let sibling = PathBuf::from(format!("{}.{ext}", rel.display()));
                if !root.join(&sibling).is_file() || leads_out(root, &sibling) {
                    continue;
                }
                let mime = actix_files::file_extension_to_mime(
                    rel.extension().and_then(|e| e.to_str()).unwrap_or(""),
                );
                if let Ok(file) = NamedFile::open_async(root.join(&sibling)).await {
                    let file = file.set_content_type(mime).set_content_encoding(coding);
                    let (req, _) = req.into_parts();
                    let mut res = file.into_response(&req);
                    let headers = res.headers_mut();
                    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
                    return Ok(ServiceResponse::new(req, res));
                }
            }
        }
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let cache = if is_page {
        Some(NO_CACHE)
    } else if hashed && res.status().is_success() {
        Some(IMMUTABLE)
    } else {
        None
    };
    if let Some(cache) = cache {
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if hashed {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_and_accepted_encodings() {
        assert!(is_hashed("tandem-client-9129d6637b995a2e_bg.wasm"));
        assert!(is_hashed("tandem-client-9129d6637b995a2e.js"));
        assert!(is_hashed("style-a2655fb3e7888ade.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("favicon.ico"));
        assert!(!is_hashed("x-123.js"));
        let codings = |a| accepted(a).into_iter().map(|(e, _)| e).collect::<Vec<_>>();
        assert_eq!(codings("gzip, deflate, br, zstd"), ["br", "gz"]);
        assert_eq!(codings("gzip"), ["gz"]);
        assert_eq!(codings("br;q=0, gzip;q=0.5"), ["gz"]);
        assert_eq!(codings(""), Vec::<&str>::new());
        assert_eq!(codings("identity"), Vec::<&str>::new());
    }
}
