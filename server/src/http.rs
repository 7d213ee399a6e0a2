//! HTTP routes: health, the WebSocket endpoints (`/ws`, `/yjs/<room>`, `/echo`), and the built client (with `/r/<room>`
//! links served the single-page app).

use crate::ws::{self, session::Shared};
use actix_files::{Files, NamedFile};
use actix_web::{dev, web, HttpRequest, HttpResponse};
use std::path::PathBuf;

pub(crate) fn configure(cfg: &mut web::ServiceConfig, shared: Shared) {
    let static_dir = shared.config.static_dir.clone();
    let echo = shared.config.echo;
    cfg.app_data(web::Data::new(shared))
        .route("/healthz", web::get().to(healthz))
        .route("/ws", web::get().to(ws::rooms))
        .route("/yjs/{room}", web::get().to(ws::yjs));
    if echo {
        cfg.route("/echo", web::get().to(ws::echo));
    }
    if static_dir.join("index.html").is_file() {
        let index = static_dir.join("index.html");
        let spa = move |req: dev::ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let res = NamedFile::open_async(&index).await?.into_response(&req);
                Ok(dev::ServiceResponse::new(req, res))
            }
        };
        cfg.service(
            Files::new("/", static_dir)
                .index_file("index.html")
                .default_handler(dev::fn_service(spa)),
        );
    } else {
        tracing::warn!(dir = %static_dir.display(), "no built client (index.html) here: serving a notice instead");
        let dir = static_dir.clone();
        cfg.default_service(web::to(move |req: HttpRequest| not_built(req, dir.clone())));
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

async fn not_built(_req: HttpRequest, dir: PathBuf) -> HttpResponse {
    HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!(
        "The Tandem client is not built: {}/index.html is missing.\nRun `cargo xtask run`, or `trunk build --release` at the workspace root.\n",
        dir.display()
    ))
}
