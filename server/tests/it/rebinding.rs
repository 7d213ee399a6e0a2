//! DNS rebinding: a page on `evil.example`, its name re-pointed at this server, sends
//! `Host: evil.example` (and, for WebSockets, the matching `Origin`). Every route but
//! `/healthz` refuses it with 403, while the server's own addresses and localhost work.

use crate::raw::*;
use crate::util::*;
use tandem_server::Config;

#[tokio::test]
async fn a_rebound_host_is_refused_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("index.html"),
        "<!doctype html><p>Tandem</p>",
    )
    .unwrap();
    let server = TestServer::start(Config {
        static_dir: site.path().to_owned(),
        allowed_origins: vec!["https://tandem.example".into()],
        ..Config::for_tests(dir.path())
    })
    .await;
    let addr = server.addr;
    let port = addr.port();
    let evil = format!("evil.example:{port}");
    let evil_origin = format!("\r\nOrigin: http://evil.example:{port}");

    for path in ["/", "/index.html", "/r/lobby", "/missing.js"] {
        assert_eq!(get(addr, path, &evil, "").await, 403, "{path}");
        for host in [addr.to_string(), format!("localhost:{port}")] {
            assert_eq!(get(addr, path, &host, "").await, 200, "{path} as {host}");
        }
        // The host of an allowed origin: a public deployment behind its name.
        assert_eq!(get(addr, path, "tandem.example", "").await, 200, "{path}");
    }
    // The request target may name the host too.
    let head = format!("GET http://evil.example/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close");
    assert_eq!(request(addr, &head).await.0, 403);

    for path in ["/ws", "/yjs/lobby", "/echo"] {
        let refused = RawWs::connect(addr, path, &evil, &evil_origin).await;
        assert_eq!(refused.err(), Some(403), "{path}");
        assert_eq!(
            RawWs::connect(addr, path, &evil, "").await.err(),
            Some(403),
            "{path} without Origin"
        );
        // The page's own origin, on the server's address or localhost.
        let own = format!("\r\nOrigin: http://{addr}");
        assert!(RawWs::connect(addr, path, &addr.to_string(), &own)
            .await
            .is_ok());
        let local = format!("\r\nOrigin: http://localhost:{port}");
        let host = format!("localhost:{port}");
        assert!(RawWs::connect(addr, path, &host, &local).await.is_ok());
        let allowed = "\r\nOrigin: https://tandem.example";
        assert!(RawWs::connect(addr, path, "tandem.example", allowed)
            .await
            .is_ok());
    }
    // A load balancer's health check may use any name.
    assert_eq!(get(addr, "/healthz", &evil, "").await, 200);

    // The victim's own clients never noticed.
    let mut c = server.connect().await;
    c.join("lobby", "Ada").await;
    server.stop().await.unwrap();
}
