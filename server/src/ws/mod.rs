//! WebSocket endpoints: the upgrade handlers for `/ws` (room protocol), `/yjs/<room>` (the
//! room's shared document, y-websocket protocol) and `/echo`.
//!
//! `codec` decodes and encodes room messages, `frames` validates frames, `session` runs a room
//! connection and `handlers` what its messages do, `yjs` a document connection, `echo` the
//! echo endpoint; `origin` and `ratelimit` are their policies.

pub(crate) mod codec;
mod echo;
mod frames;
mod handlers;
mod origin;
mod ratelimit;
pub(crate) mod session;
mod yjs;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use session::Shared;
use std::sync::atomic::{AtomicU64, Ordering};
use tandem_shared::ids::RoomName;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// The 403 for a WebSocket handshake from a disallowed `Origin`, if it is one.
fn forbidden_origin(req: &HttpRequest, shared: &Shared) -> Option<HttpResponse> {
    let header = |name| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("invalid"))
    };
    let origin = header(header::ORIGIN);
    if origin::allowed(origin, header(header::HOST), &shared.config.allowed_origins) {
        return None;
    }
    tracing::warn!(
        origin = origin.unwrap_or_default(),
        "websocket from a disallowed origin"
    );
    Some(HttpResponse::Forbidden().body("origin not allowed\n"))
}

/// Check the origin, upgrade, and run `serve` on the connection as a tracked task.
fn upgrade<F>(
    req: &HttpRequest,
    body: web::Payload,
    shared: &Shared,
    serve: impl FnOnce(actix_ws::Session, actix_ws::MessageStream) -> F,
) -> Result<HttpResponse, actix_web::Error>
where
    F: std::future::Future<Output = ()> + 'static,
{
    if let Some(forbidden) = forbidden_origin(req, shared) {
        return Ok(forbidden);
    }
    if shared.shutdown.is_cancelled() {
        return Ok(HttpResponse::ServiceUnavailable().body("shutting down\n"));
    }
    let (response, session, stream) = actix_ws::handle(req, body)?;
    actix_web::rt::spawn(shared.sessions.track_future(serve(session, stream)));
    Ok(response)
}

/// `GET /ws`
pub(crate) async fn rooms(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    let for_session = Shared::clone(&shared);
    upgrade(&req, body, &shared, move |session, stream| {
        session::run(for_session, session, stream, id)
    })
}

/// `GET /yjs/{room}`: the room's document, for a stock `WebsocketProvider(url + '/yjs', room, doc)`.
pub(crate) async fn yjs(
    req: HttpRequest,
    body: web::Payload,
    room: web::Path<String>,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, actix_web::Error> {
    let room = match RoomName::new(&room) {
        Ok(room) => room,
        Err(e) => return Ok(HttpResponse::BadRequest().body(format!("{}\n", e.message))),
    };
    let id = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    let for_session = Shared::clone(&shared);
    upgrade(&req, body, &shared, move |session, stream| {
        yjs::run(for_session, room, session, stream, id)
    })
}

/// `GET /echo` (only routed when the server runs with `--echo`).
pub(crate) async fn echo(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, actix_web::Error> {
    let (max, shutdown) = (shared.config.echo_max_message, shared.shutdown.clone());
    upgrade(&req, body, &shared, move |session, stream| {
        echo::run(session, stream, max, shutdown)
    })
}
