//! The built client on the wire: precompressed siblings by `Accept-Encoding` (brotli first,
//! then gzip, else the file itself), with `Content-Encoding`, the original `Content-Type`
//! and `Vary`; hashed assets cached for good, the page (and the paths that serve it)
//! `no-cache`.

use crate::util::TestServer;
use std::{collections::HashMap, net::SocketAddr};
use tandem_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WASM: &str = "app-0123456789abcdef_bg.wasm";

/// `GET path` with `Accept-Encoding: accept` (none if empty): status, headers (lowercase
/// names), body bytes.
async fn get(
    addr: SocketAddr,
    path: &str,
    accept: &str,
) -> (u16, HashMap<String, String>, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let accept = if accept.is_empty() {
        String::new()
    } else {
        format!("Accept-Encoding: {accept}\r\n")
    };
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    tokio::time::timeout(crate::util::WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("in time")
        .expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

#[tokio::test]
async fn assets_go_precompressed_by_accept_encoding_and_are_cached_for_good() {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>t</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join(WASM), b"\0asm raw bytes").unwrap();
    std::fs::write(dist.path().join(format!("{WASM}.br")), b"brotli bytes").unwrap();
    std::fs::write(dist.path().join(format!("{WASM}.gz")), b"gzip bytes").unwrap();
    std::fs::write(dist.path().join("plain.txt"), b"plain").unwrap();
    let mut config = Config::for_tests(data.path());
    config.static_dir = dist.path().to_owned();
    let server = TestServer::start(config).await;
    let path = format!("/{WASM}");

    for (accept, body, encoding) in [
        ("gzip, deflate, br, zstd", &b"brotli bytes"[..], Some("br")),
        ("gzip", &b"gzip bytes"[..], Some("gzip")),
        ("br;q=0, gzip", &b"gzip bytes"[..], Some("gzip")),
        ("", &b"\0asm raw bytes"[..], None),
    ] {
        let (status, headers, got) = get(server.addr, &path, accept).await;
        assert_eq!(status, 200, "{accept:?}");
        assert_eq!(got, body, "{accept:?}");
        assert_eq!(
            headers.get("content-encoding").map(String::as_str),
            encoding,
            "{accept:?}"
        );
        assert_eq!(headers["content-type"], "application/wasm", "{accept:?}");
        assert_eq!(headers["vary"], "accept-encoding", "{accept:?}");
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(
            headers.contains_key("content-security-policy"),
            "security headers too"
        );
    }
    // The page, however it is reached, is revalidated every time.
    for page in ["/", "/index.html", "/r/lobby"] {
        let (status, headers, _) = get(server.addr, page, "br").await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(headers["cache-control"], "no-cache", "{page}");
        assert!(!headers.contains_key("content-encoding"), "{page}");
    }
    // Unhashed files get no caching promise; a missing sibling falls back to the file.
    let (_, headers, _) = get(server.addr, "/plain.txt", "br").await;
    assert!(!headers.contains_key("cache-control"));
    std::fs::remove_file(dist.path().join(format!("{WASM}.br"))).unwrap();
    let (_, headers, got) = get(server.addr, &path, "br, gzip").await;
    assert_eq!(
        (got.as_slice(), headers["content-encoding"].as_str()),
        (&b"gzip bytes"[..], "gzip")
    );
    // A sibling that leads out of the static directory is not served.
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), b"secret").unwrap();
    std::fs::remove_file(dist.path().join(format!("{WASM}.gz"))).unwrap();
    std::os::unix::fs::symlink(outside.path(), dist.path().join(format!("{WASM}.gz"))).unwrap();
    let (_, headers, got) = get(server.addr, &path, "gzip").await;
    assert_eq!(got, b"\0asm raw bytes");
    assert!(!headers.contains_key("content-encoding"));
    server.stop().await.unwrap();
}
