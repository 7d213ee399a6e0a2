//! The page under its Content-Security-Policy, in real browsers: the headers of the page
//! (`/`, `/r/<room>`) and of its assets are as the server promises, and the page joins a
//! room, chats, edits the document, colours names and carets and reloads without a single
//! violation; an inline script smuggled into the page (in a message, or as an element) does
//! not run.
//!
//! Violations are watched two ways: Chromium's console log through chromedriver (every session
//! asks for it), which holds the reports from the first byte of each load on, before any
//! script of ours could listen; and a `securitypolicyviolation` listener installed once the
//! page is up, for what happens after. Both are shown to work by a deliberate violation at
//! the end. That trunk's inline loader ran at all is checked too (it sets
//! `window.wasmBindings`).

use serde_json::{json, Value};
use std::{collections::HashMap, net::SocketAddr};
use tandem_e2e::{
    browser::{Browser, Via},
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
    wait,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Reply {
    status: u16,
    /// Lowercase names.
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// `GET path` over HTTP/1.1 with `Connection: close`, read to the end.
async fn get(addr: SocketAddr, path: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    tokio::time::timeout(wait::TIMEOUT, stream.read_to_end(&mut raw))
        .await
        .unwrap_or_else(|_| panic!("GET {path}: no reply in time"))
        .expect("read");
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: no end of head"));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: no status line in {head}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// The policy of `r` (asserting the other headers are there too).
fn security_headers(path: &str, r: &Reply) -> String {
    assert_eq!(r.status, 200, "GET {path}");
    for (name, want) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(
            r.headers.get(name).map(String::as_str),
            Some(want),
            "GET {path}: {name}"
        );
    }
    r.headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("GET {path}: no Content-Security-Policy"))
        .clone()
}

/// The page's asset paths (`href`/`src` values starting with `/`).
fn assets(page: &str) -> Vec<String> {
    page.split(['"', '\''])
        .filter(|s| s.starts_with('/') && s.len() > 1 && !s.contains(' '))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_carry_the_headers() {
    dist_dir();
    let server = TestServer::start().await;
    let page = get(server.addr(), "/").await;
    let csp = security_headers("/", &page);
    println!("GET / →\n{:#?}", page.headers);
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    let script = directives
        .iter()
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("no script-src in {csp}"));
    let hashes = script.matches("'sha256-").count();
    assert!(
        script.starts_with("script-src 'self' 'wasm-unsafe-eval' 'sha256-") && hashes == 1,
        "trunk's one inline loader, by its hash: {script}"
    );
    for want in [
        "default-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(directives.contains(&want), "{want} in {csp}");
    }
    assert_eq!(csp.matches("'unsafe-inline'").count(), 1, "{csp}");
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");

    // A room link is served the page, with the same policy.
    let room = get(server.addr(), "/r/csp-room").await;
    assert_eq!(security_headers("/r/csp-room", &room), csp);
    assert_eq!(room.body, page.body);

    let body = String::from_utf8_lossy(&page.body).into_owned();
    let assets = assets(&body);
    for ext in [".js", "_bg.wasm", ".css"] {
        assert!(
            assets.iter().any(|a| a.ends_with(ext)),
            "a {ext} asset in {assets:?}"
        );
    }
    for asset in &assets {
        let r = get(server.addr(), asset).await;
        assert_eq!(security_headers(asset, &r), csp, "{asset}");
        assert!(!r.body.is_empty(), "{asset}");
    }
    let health = get(server.addr(), "/healthz").await;
    security_headers("/healthz", &health);
}

/// Install the runtime listener (idempotent): violations go to `window.__csp`.
const LISTEN: &str = r#"
if (!window.__csp) {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(
    { directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample }));
}
return true;
"#;

/// What the page says about itself: the listener's findings, that trunk's inline loader ran,
/// and the computed custom properties of coloured elements against their `style` attributes.
const EVIDENCE: &str = r#"
const styled = (sel, prop) => Array.from(document.querySelectorAll(sel)).map((e) => ({
  attr: e.getAttribute("style"),
  computed: getComputedStyle(e).getPropertyValue(prop).trim(),
  color: getComputedStyle(e).color,
}));
return {
  violations: window.__csp || null,
  loader_ran: typeof window.wasmBindings === "object" && window.wasmBindings !== null,
  senders: styled(".sender", "--hue"),
  avatars: styled(".avatar", "--hue"),
  carets: styled('[data-testid="doc-caret"]', "--c"),
  pwned: window.__pwned === undefined ? null : window.__pwned,
  injected: window.__injected === undefined ? null : window.__injected,
  images_in_messages: document.querySelectorAll('[data-testid="message"] img').length,
};
"#;

/// No CSP report in the browser's console since the last look.
async fn no_console_violations(b: &Browser, moment: &str) {
    let log = b.console_log().await;
    for e in &log {
        println!(
            "{} console {moment}: {} {:?} {}",
            b.who, e.level, e.source, e.message
        );
    }
    let bad: Vec<_> = log.iter().filter(|e| e.is_csp_violation()).collect();
    assert!(
        bad.is_empty(),
        "{}: CSP violations {moment}: {bad:#?}",
        b.who
    );
}

/// Each element's `style` attribute (`--hue: 200`) is in force: its computed value is the
/// attribute's.
fn coloured(b: &Browser, what: &str, list: &Value) {
    let list = list.as_array().expect("a list");
    assert!(!list.is_empty(), "{}: no {what} on the page", b.who);
    for e in list {
        let attr = e["attr"].as_str().unwrap_or_default();
        let computed = e["computed"].as_str().unwrap_or_default();
        assert!(
            !computed.is_empty() && attr.contains(computed),
            "{}: {what}'s style attribute not applied: {e}",
            b.who
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_under_its_policy_and_injected_scripts_do_not_run() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("csp");
    let server = TestServer::start().await;
    with_browsers(&shots, &["alice", "bob"], async |b: &[Browser]| {
        let (alice, bob) = (&b[0], &b[1]);
        for (who, name) in [(alice, "Alice"), (bob, "Bob")] {
            who.join_room(&server.url(""), "csp-room", name).await;
            no_console_violations(who, "while loading and joining").await;
            who.eval(LISTEN, vec![]).await;
        }
        alice.send("hello under a policy", Via::Enter).await;
        bob.send("hello back", Via::Button).await;
        for who in [alice, bob] {
            who.wait_for("both messages confirmed", |s| {
                s.confirmed("hello under a policy") && s.confirmed("hello back")
            })
            .await;
        }
        alice.type_doc("written under a policy").await;
        bob.wait_doc("Alice's words", wait::TIMEOUT, |d| {
            d.text() == "written under a policy"
        })
        .await;
        bob.type_doc(" too").await;
        alice.wait_caret_of("Bob").await;
        bob.wait_caret_of("Alice").await;
        shots.take("chatted-and-edited", &[alice, bob]).await;

        // A hostile message: shown as its text, nothing of it runs or renders.
        let hostile = r#"<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"#;
        bob.send(hostile, Via::Enter).await;
        alice
            .wait_for("the hostile message, as text", |s| s.confirmed(hostile))
            .await;

        for who in [alice, bob] {
            let page = who.eval(EVIDENCE, vec![]).await;
            assert_eq!(page["violations"], json!([]), "{}: {page}", who.who);
            assert_eq!(page["loader_ran"], json!(true), "{}: {page}", who.who);
            assert_eq!(page["pwned"], Value::Null, "{}: {page}", who.who);
            assert_eq!(page["images_in_messages"], json!(0), "{}: {page}", who.who);
            coloured(who, "sender name", &page["senders"]);
            coloured(who, "avatar", &page["avatars"]);
            coloured(who, "caret", &page["carets"]);
            no_console_violations(who, "while chatting and editing").await;
        }

        // Reload: the page comes back (the inline loader allowed again), still clean.
        alice.reload().await;
        alice
            .wait_for("live again after reload", |s| {
                s.in_room && s.is_live() && s.confirmed("hello back")
            })
            .await;
        no_console_violations(alice, "while reloading").await;
        alice.eval(LISTEN, vec![]).await;
        let page = alice.eval(EVIDENCE, vec![]).await;
        assert_eq!(page["loader_ran"], json!(true), "{page}");
        coloured(alice, "sender name", &page["senders"]);
        shots.take("reloaded", &[alice, bob]).await;

        // The watchers do see a violation: an inline script added as an element (what an
        // injection into the DOM would do) is refused, and both report it.
        alice
            .eval(
                r#"const s = document.createElement("script");
                   s.textContent = "window.__injected = 1";
                   document.body.appendChild(s);
                   return true;"#,
                vec![],
            )
            .await;
        let page = wait::until(
            "alice: the injected script reported",
            wait::TIMEOUT,
            || alice.eval(EVIDENCE, vec![]),
            |p| p["violations"].as_array().is_some_and(|v| !v.is_empty()),
        )
        .await;
        assert_eq!(
            page["injected"],
            Value::Null,
            "the injected script ran: {page}"
        );
        assert_eq!(
            page["violations"][0]["directive"],
            json!("script-src-elem"),
            "{page}"
        );
        let log = alice.console_log().await;
        for e in log.iter().filter(|e| e.is_csp_violation()) {
            println!("alice console, the injected script: {}", e.message);
        }
        assert!(
            log.iter().any(|e| e.is_csp_violation()),
            "the console log shows the refused script: {log:#?}"
        );
    })
    .await;
}
