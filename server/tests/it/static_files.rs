//! The built client as served: symbolic links that lead out of the static directory are not
//! found, links that stay inside are followed, unknown paths get the page; and every response
//! carries the security headers, the page's policy allowing exactly its inline scripts.

use crate::util::TestServer;
use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256};
use std::{collections::HashMap, net::SocketAddr, os::unix::fs::symlink, path::Path};
use tandem_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LOADER: &str = "\nimport init from '/app.js';\nawait init();\n";

struct Reply {
    status: u16,
    /// Lowercase names; the last value of each.
    headers: HashMap<String, String>,
    body: String,
}

/// `GET path` over HTTP/1.1 with `Connection: close`, read to the end.
async fn get(addr: SocketAddr, path: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    tokio::time::timeout(crate::util::WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("the reply within the wait")
        .expect("read");
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn page(script: &str) -> String {
    format!(
        "<!doctype html><html><head><script type=\"module\">{script}</script>\
         <link rel=\"modulepreload\" href=\"/app.js\"></head><body></body></html>"
    )
}

fn sha256(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// A static directory with the page, a file, links inside and links out (to a file, to a
/// directory, to nothing), and a directory whose index file is a link out.
fn static_tree(root: &Path) -> std::path::PathBuf {
    let outside = root.join("outside");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("secret.txt"), "outside secret").unwrap();
    std::fs::write(outside.join("dir/secret.txt"), "outside dir secret").unwrap();
    std::fs::write(outside.join("index.html"), "outside index").unwrap();

    let dist = root.join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::create_dir_all(dist.join("trap")).unwrap();
    std::fs::write(dist.join("index.html"), page(LOADER)).unwrap();
    std::fs::write(
        dist.join("app.js"),
        "export default async function init() {}\n",
    )
    .unwrap();
    std::fs::write(dist.join("assets/style.css"), "body { color: red }\n").unwrap();
    symlink(dist.join("app.js"), dist.join("alias.js")).unwrap();
    symlink(dist.join("assets"), dist.join("linked-assets")).unwrap();
    symlink(outside.join("secret.txt"), dist.join("secret.txt")).unwrap();
    symlink(outside.join("dir"), dist.join("out")).unwrap();
    symlink(outside.join("gone.txt"), dist.join("dangling.txt")).unwrap();
    symlink(outside.join("index.html"), dist.join("trap/index.html")).unwrap();
    dist
}

async fn server(dir: &Path, dist: &Path) -> TestServer {
    let mut config = Config::for_tests(dir.join("data"));
    config.static_dir = dist.to_owned();
    TestServer::start(config).await
}

#[tokio::test]
async fn links_out_of_the_static_dir_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let dist = static_tree(dir.path());
    let s = server(dir.path(), &dist).await;

    for path in [
        "/secret.txt",
        "/out/secret.txt",
        // Below a link out, whether or not anything is there.
        "/out/missing.txt",
        "/out/",
        "/dangling.txt",
        // A directory's index file that leads out.
        "/trap/",
        "/trap/index.html",
    ] {
        let r = get(s.addr, path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(!r.body.contains("outside"), "{path}: {}", r.body);
    }

    let served = [
        ("/app.js", "export default"),
        ("/alias.js", "export default"),
        ("/assets/style.css", "color: red"),
        ("/linked-assets/style.css", "color: red"),
        ("/", LOADER),
        ("/index.html", LOADER),
        // Unknown paths (room links) get the page.
        ("/r/lobby", LOADER),
        ("/assets/missing.css", LOADER),
    ];
    for (path, want) in served {
        let r = get(s.addr, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.body.contains(want), "{path}: {}", r.body);
    }
    s.stop().await.unwrap();
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let dist = static_tree(dir.path());
    let s = server(dir.path(), &dist).await;

    let want_csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; \
         style-src-attr 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; \
         object-src 'none'; base-uri 'none'",
        sha256(LOADER)
    );
    for path in [
        "/",
        "/r/lobby",
        "/app.js",
        "/assets/style.css",
        "/secret.txt",
        "/healthz",
    ] {
        let r = get(s.addr, path).await;
        let h = &r.headers;
        assert_eq!(h.get("content-security-policy"), Some(&want_csp), "{path}");
        assert_eq!(
            h.get("x-content-type-options").map(String::as_str),
            Some("nosniff")
        );
        assert_eq!(
            h.get("referrer-policy").map(String::as_str),
            Some("no-referrer")
        );
        assert_eq!(h.get("x-frame-options").map(String::as_str), Some("DENY"));
    }

    // A rebuild under the running server: the next page served brings the new hash.
    let rebuilt = "\nimport init from '/app.js';\nawait init(); // rebuilt\n";
    std::fs::write(dist.join("index.html"), page(rebuilt)).unwrap();
    let r = get(s.addr, "/r/lobby").await;
    let csp = &r.headers["content-security-policy"];
    assert!(r.body.contains("rebuilt"), "{}", r.body);
    assert!(csp.contains(&sha256(rebuilt)), "{csp}");
    assert!(!csp.contains(&sha256(LOADER)), "{csp}");
    s.stop().await.unwrap();
}

#[tokio::test]
async fn without_a_built_client_the_notice_has_the_headers_and_no_script() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path(), &dir.path().join("nothing-here")).await;
    let r = get(s.addr, "/").await;
    assert_eq!(r.status, 503, "{}", r.body);
    let csp = &r.headers["content-security-policy"];
    assert!(
        csp.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"),
        "{csp}"
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    s.stop().await.unwrap();
}
