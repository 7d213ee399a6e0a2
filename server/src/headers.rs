//! Security headers on every response, applied in one place: the [`SecurityHeaders`]
//! middleware that `run` wraps the whole app in.
//!
//! - `Content-Security-Policy` ([`policy`]): only this origin's scripts, styles, images and
//!   connections (WebSockets included), WebAssembly compilation, the page's own inline
//!   script by its hash, inline `style` attributes, and nothing framing the page, no plugins,
//!   no `<base>`.
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, and
//!   `X-Frame-Options: DENY` (what `frame-ancestors 'none'` says, for browsers without CSP
//!   level 2).
//!
//! The inline script is trunk's loader (`<script type="module">` importing and starting the
//! wasm), so its hash depends on the build: it is computed from `index.html` in the static
//! directory when a worker starts and again whenever a page is served from a changed file
//! (size or modification time), so a rebuild under a running server keeps working.

use actix_web::{
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{self, HeaderMap, HeaderValue},
    Error,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};
use std::{
    cell::RefCell,
    path::{Path, PathBuf},
    rc::Rc,
    time::SystemTime,
};

/// The Content-Security-Policy for a page whose inline scripts have these `hashes`
/// (`sha256-…`, see [`inline_script_hashes`]).
///
/// - `script-src 'self' 'wasm-unsafe-eval' 'sha256-…'`: the client's JS module (and its
///   `modulepreload`), WebAssembly compilation of the client's wasm
///   (`WebAssembly.instantiateStreaming`), and trunk's inline loader by its hash; no other
///   inline script, no `eval`.
/// - `style-src-attr 'unsafe-inline'`: the page sets `style` attributes (`--hue: …` on names
///   and avatars, `--c: …` on others' carets and selections), which nothing else can allow:
///   their values are computed, so no hash list covers them. Only attributes: `<style>`
///   elements and style sheets stay `'self'` (`default-src`), and a `style` attribute cannot
///   run script.
/// - `connect-src 'self'`: the wasm fetch and `/ws`, `/yjs/<room>` (CSP 3 matches `ws:`/`wss:`
///   of this host and port to `'self'`).
/// - `frame-ancestors 'none'; object-src 'none'; base-uri 'none'`: no framing, no plugins, no
///   `<base>` redirecting relative URLs.
///
/// `connect`: other origins the page may open sockets to (a cluster's nodes, `ws(s)://…`).
pub(crate) fn policy(hashes: &[String], connect: &[String]) -> String {
    let mut script = String::from("'self' 'wasm-unsafe-eval'");
    for h in hashes {
        script.push_str(" '");
        script.push_str(h);
        script.push('\'');
    }
    let mut connect_src = String::from("'self'");
    for origin in connect {
        connect_src.push(' ');
        connect_src.push_str(origin);
    }
    format!(
        "default-src 'self'; script-src {script}; style-src-attr 'unsafe-inline'; \
         connect-src {connect_src}; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
    )
}

/// `sha256-<base64>` of each inline `<script>` (one without `src`) of `html`, in order, over
/// its text as the browser sees it (line endings normalised to LF, as the HTML parser does).
/// Scripts inside comments are skipped.
pub(crate) fn inline_script_hashes(html: &str) -> Vec<String> {
    let html = html.replace("\r\n", "\n").replace('\r', "\n");
    let lower = html.to_ascii_lowercase();
    let mut hashes = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find('<') {
        let start = at + found;
        if lower[start..].starts_with("<!--") {
            at = lower[start..]
                .find("-->")
                .map_or(lower.len(), |end| start + end + 3);
            continue;
        }
        let after = start + "<script".len();
        let is_script = lower[start..].starts_with("<script")
            && lower[after..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_whitespace() || c == '>' || c == '/');
        if !is_script {
            at = start + 1;
            continue;
        }
        let Some((names, body_start)) = attributes(&lower, after) else {
            break;
        };
        let body_end = lower[body_start..]
            .find("</script")
            .map_or(lower.len(), |end| body_start + end);
        if !names.iter().any(|n| n == "src") {
            let digest = Sha256::digest(&html.as_bytes()[body_start..body_end]);
            hashes.push(format!("sha256-{}", STANDARD.encode(digest)));
        }
        at = body_end;
    }
    hashes
}

/// The attribute names of the start tag whose attributes begin at `at` of `tag` (lowercase
/// HTML), and where its content starts (after `>`); `None` if the tag never ends.
fn attributes(tag: &str, mut at: usize) -> Option<(Vec<String>, usize)> {
    let bytes = tag.as_bytes();
    let mut names = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        match bytes.get(at)? {
            b'>' => return Some((names, at + 1)),
            _ => {
                let name_start = at;
                while at < bytes.len() && !b" \t\n\x0c/>=".contains(&bytes[at]) {
                    at += 1;
                }
                names.push(tag[name_start..at].to_owned());
                while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                    at += 1;
                }
                if bytes.get(at) == Some(&b'=') {
                    at += 1;
                    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                        at += 1;
                    }
                    match bytes.get(at)? {
                        q @ (b'"' | b'\'') => {
                            let close = tag[at + 1..].find(*q as char)?;
                            at += close + 2;
                        }
                        _ => {
                            while at < bytes.len()
                                && !bytes[at].is_ascii_whitespace()
                                && bytes[at] != b'>'
                            {
                                at += 1;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What identifies a version of `index.html` cheaply: its size and modification time.
type Stamp = Option<(u64, Option<SystemTime>)>;

/// The page's policy, recomputed when `index.html` changes.
struct Page {
    index: PathBuf,
    /// The cluster's nodes, where the page may move its sockets.
    connect: Vec<String>,
    /// One per worker (a worker is one thread, and nothing awaits while this is borrowed).
    cached: RefCell<(Stamp, HeaderValue)>,
}

impl Page {
    fn new(index: PathBuf, connect: Vec<String>) -> Page {
        let page = Page {
            index,
            connect,
            cached: RefCell::new((None, HeaderValue::from_static(""))),
        };
        page.load(page.stamp());
        page
    }

    fn stamp(&self) -> Stamp {
        let meta = std::fs::metadata(&self.index).ok()?;
        Some((meta.len(), meta.modified().ok()))
    }

    fn load(&self, stamp: Stamp) {
        // No page (or an unreadable one): no inline script is allowed.
        let html = std::fs::read_to_string(&self.index).unwrap_or_default();
        let csp = policy(&inline_script_hashes(&html), &self.connect);
        // unwrap: the policy is ASCII (base64 hashes and fixed text).
        let value = HeaderValue::from_str(&csp).unwrap();
        *self.cached.borrow_mut() = (stamp, value);
    }

    /// The policy; for a page (`refresh`), first recomputed if `index.html` changed.
    fn csp(&self, refresh: bool) -> HeaderValue {
        if refresh {
            let stamp = self.stamp();
            if stamp != self.cached.borrow().0 {
                tracing::debug!(index = %self.index.display(), "page changed: new policy");
                self.load(stamp);
            }
        }
        self.cached.borrow().1.clone()
    }

    fn apply(&self, headers: &mut HeaderMap) {
        let is_page = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp(is_page));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// The middleware: every response gets the headers of this module.
#[derive(Clone)]
pub(crate) struct SecurityHeaders {
    page: Rc<Page>,
}

impl SecurityHeaders {
    /// For the client served from `static_dir` (its `index.html` is read now and whenever
    /// it changes), which may open sockets to `connect` too.
    pub(crate) fn new(static_dir: &Path, connect: Vec<String>) -> SecurityHeaders {
        SecurityHeaders {
            page: Rc::new(Page::new(static_dir.join("index.html"), connect)),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SecurityHeaders
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = SecurityHeadersService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(SecurityHeadersService {
            service,
            page: self.page.clone(),
        }))
    }
}

pub(crate) struct SecurityHeadersService<S> {
    service: S,
    page: Rc<Page>,
}

impl<S, B> Service<ServiceRequest> for SecurityHeadersService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let fut = self.service.call(req);
        let page = self.page.clone();
        Box::pin(async move {
            // Handlers' and extractors' errors are responses by now (actix turns them into
            // responses in the route); `http`'s fallback makes its own too.
            let mut res = fut.await?;
            page.apply(res.headers_mut());
            Ok(res)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_inline_scripts_only() {
        // The example of the CSP specification: `alert('Hello, world.');`.
        let html = "<head><script src=\"/a.js\"></script><SCRIPT>alert('Hello, world.');</script>\
                    <!-- <script>not this</script> --><script type=\"module\" data-x='a>b'>\
                    alert('Hello, world.');</Script></head>";
        let want = "sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng=";
        assert_eq!(inline_script_hashes(html), vec![want, want]);
    }

    #[test]
    fn hashes_what_the_browser_sees() {
        // The parser turns CRLF into LF before the script's text exists.
        let crlf = inline_script_hashes("<script>\r\na;\r\n</script>");
        assert_eq!(crlf, inline_script_hashes("<script>\na;\n</script>"));
        assert!(inline_script_hashes("<scripts>x</scripts><p>").is_empty());
        assert!(inline_script_hashes("<script").is_empty());
        // `src` among other attributes, unquoted values.
        assert!(inline_script_hashes("<script defer src=/x.js type=module></script>").is_empty());
    }

    #[test]
    fn policy_lists_the_hashes() {
        let csp = policy(&["sha256-AAAA".to_owned(), "sha256-BBBB".to_owned()], &[]);
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-AAAA' 'sha256-BBBB';"),
            "{csp}"
        );
        // Inline code is allowed nowhere else than in `style` attributes.
        assert_eq!(csp.matches("'unsafe-inline'").count(), 1, "{csp}");
        assert!(csp.contains("style-src-attr 'unsafe-inline';"), "{csp}");
        assert!(!policy(&[], &[]).contains("sha256"));
        let nodes = ["ws://n2:8080".to_owned()];
        assert!(policy(&[], &nodes).contains("connect-src 'self' ws://n2:8080;"));
    }
}
