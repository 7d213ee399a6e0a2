//! HTTP routes: health (`/healthz`: alive; `/readyz`: store and cluster links answer), the WebSocket endpoints (`/ws`, `/yjs/<room>`, `/echo`), and the built client (with `/r/<room>`
//! links served the single-page app).
//!
//! The static directory is served only as far as it goes: a path that resolves outside it
//! (through a symbolic link, at any hop, the directory's `index.html` included) is not
//! found (404), whatever is there; links that stay inside are followed. Paths with nothing
//! behind them get the page.

use crate::ws::{self, session::Shared};
use actix_files::{Files, NamedFile, PathBufWrap};
use actix_web::{dev, web, HttpRequest, HttpResponse};
use std::path::{Path, PathBuf};

pub(crate) fn configure(cfg: &mut web::ServiceConfig, shared: Shared) {
    let static_dir = shared.config.static_dir.clone();
    let echo = shared.config.echo;
    cfg.app_data(web::Data::new(shared))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/ws", web::get().to(ws::rooms))
        .route("/yjs/{room}", web::get().to(ws::yjs));
    if echo {
        cfg.route("/echo", web::get().to(ws::echo));
    }
    crate::api::configure(cfg);
    if let (true, Ok(root)) = (static_dir.join(INDEX).is_file(), static_dir.canonicalize()) {
        let filter_root = root.clone();
        let spa = move |req: dev::ServiceRequest| {
            let root = root.clone();
            async move {
                // Files hands over what it did not serve: nothing there (the page), or a path
                // its filter refused (404).
                let refused = PathBufWrap::parse_path(req.match_info().unprocessed(), false)
                    .map_or(true, |rel| leads_out(&root, rel.as_ref()));
                let (req, _) = req.into_parts();
                if refused || leads_out(&root, Path::new(INDEX)) {
                    return Ok(dev::ServiceResponse::new(
                        req,
                        HttpResponse::NotFound().finish(),
                    ));
                }
                // An error as a response here, so that it gets the security headers.
                let res = match NamedFile::open_async(root.join(INDEX)).await {
                    Ok(page) => page.into_response(&req),
                    Err(e) => HttpResponse::from_error(e),
                };
                Ok::<_, actix_web::Error>(dev::ServiceResponse::new(req, res))
            }
        };
        cfg.service(
            Files::new("/", static_dir)
                .index_file(INDEX)
                .path_filter(move |rel, _| !leads_out(&filter_root, rel))
                .default_handler(dev::fn_service(spa)),
        );
    } else {
        tracing::warn!(dir = %static_dir.display(), "no built client (index.html) here: serving a notice instead");
        let dir = static_dir.clone();
        cfg.default_service(web::to(move |req: HttpRequest| not_built(req, dir.clone())));
    }
}

const INDEX: &str = "index.html";

/// Whether `rel` (a request path as `Files` parsed it: no `..`, no hidden segments) resolves
/// outside `root` (canonical), through every symbolic link: the deepest part of it that
/// exists must be inside (so a path below a link that leads out leads out whether or not
/// anything is there, and answers do not tell what exists outside), a link to nothing is
/// refused, and a directory's index file, which `Files` would serve for it, must be inside
/// too.
pub(crate) fn leads_out(root: &Path, rel: &Path) -> bool {
    let full = root.join(rel);
    for path in full.ancestors() {
        match path.canonicalize() {
            Ok(real) if !real.starts_with(root) => return true,
            Ok(real) => {
                return path == full
                    && real.is_dir()
                    && real
                        .join(INDEX)
                        .canonicalize()
                        .is_ok_and(|index| !index.starts_with(root))
            }
            // Something is there but does not resolve: a dangling link (or no access).
            Err(_) if path.symlink_metadata().is_ok() => return true,
            Err(_) => {}
        }
    }
    true
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Ready: the store answers and, in a cluster, the link to the other nodes works; 503 with
/// a JSON reason otherwise. (`/healthz` only says the process is alive.)
async fn readyz(shared: web::Data<Shared>) -> HttpResponse {
    match shared.rooms.readiness().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"ready": true})),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"ready": false, "reason": reason}))
        }
    }
}

/// The Prometheus (OpenMetrics) text exposition of [`crate::metrics::METRICS`].
async fn metrics(shared: web::Data<Shared>) -> HttpResponse {
    let m = &crate::metrics::METRICS;
    m.rooms_live.set(shared.rooms.live_rooms() as i64);
    m.documents_live.set(shared.docs.live_docs() as i64);
    m.cluster_link_up
        .set(i64::from(shared.rooms.link_trouble().is_none()));
    m.store_up
        .set(i64::from(shared.rooms.store_trouble().await.is_none()));
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(m.encode())
}

async fn not_built(_req: HttpRequest, dir: PathBuf) -> HttpResponse {
    HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!(
        "The Tandem client is not built: {}/index.html is missing.\nRun `cargo xtask run`, or `trunk build --release` at the workspace root.\n",
        dir.display()
    ))
}
