//! WebSocket endpoints: the upgrade handlers for `/ws` (room protocol), `/yjs/<room>` (the
//! room's shared document, y-websocket protocol) and `/echo`.
//!
//! `codec` decodes and encodes room messages, `frames` validates frames, `session` runs a room
//! connection and `handlers` what its messages do, `yjs` a document connection, `echo` the
//! echo endpoint; `origin`, `ratelimit`, `limits` (a room connection's rate, rooms and joins)
//! and `peers` (connections per client address) are their policies.
//!
//! Before a handshake: HTTP/1.0 gets 400 (RFC 6455 needs HTTP/1.1), a disallowed `Origin`
//! 403, a client address at its cap of connections 429, a server shutting down 503.

mod access;
mod body;
pub(crate) mod codec;
mod echo;
mod frames;
mod handlers;
mod limits;
mod origin;
pub(crate) mod peers;
mod ratelimit;
pub(crate) use ratelimit::{RateLimit, Verdict};
pub(crate) mod session;
mod yjs;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use session::Shared;
use std::sync::atomic::{AtomicU64, Ordering};
use tandem_shared::ids::RoomName;
use tracing::Instrument;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// The close for a connection an operator closed (admin API): 1008.
fn closed_by_operator(id: u64) -> Option<actix_ws::CloseReason> {
    tracing::info!(conn = id, "closed by an operator");
    frames::reason(actix_ws::CloseCode::Policy, "closed by an operator")
}

/// A new connection id (also for an API request that posts to a room as one).
pub(crate) fn next_conn_id() -> u64 {
    NEXT_CONN.fetch_add(1, Ordering::Relaxed)
}

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

/// Check the origin, upgrade, and run `serve` on the connection as a tracked task; with
/// `outbox`, the connection's outbox is written to the socket first (`body.rs`).
fn upgrade<F, O: body::Outgoing>(
    req: &HttpRequest,
    body: web::Payload,
    (shared, conn, endpoint): (&Shared, u64, &'static str),
    outbox: Option<body::Unstarted<O>>,
    serve: impl FnOnce(actix_ws::Session, actix_ws::MessageStream) -> F,
) -> Result<HttpResponse, actix_web::Error>
where
    F: std::future::Future<Output = ()> + 'static,
{
    if req.version() < actix_web::http::Version::HTTP_11 {
        tracing::info!(version = ?req.version(), "websocket handshake over HTTP/1.0");
        return Ok(HttpResponse::BadRequest().body("WebSocket needs HTTP/1.1 (RFC 6455)\n"));
    }
    if let Some(forbidden) = forbidden_origin(req, shared) {
        return Ok(forbidden);
    }
    if shared.shutdown.is_cancelled() {
        return Ok(HttpResponse::ServiceUnavailable().body("shutting down\n"));
    }
    // Held by the session for as long as it runs.
    let client = peers::client_ip(req, shared.config.trust_forwarded_for);
    let place = match client {
        None => None,
        Some(ip) => match shared.peers.acquire(ip, shared.config.max_conns_per_addr) {
            Some(place) => Some(place),
            None => {
                let max = shared.config.max_conns_per_addr;
                tracing::warn!(%ip, max, "refused a websocket: too many from this address");
                return Ok(HttpResponse::TooManyRequests().body(format!(
                    "too many connections from this address (at most {max} at once)\n"
                )));
            }
        },
    };
    let (response, session, stream) = actix_ws::handle(req, body)?;
    let response = match outbox {
        Some(outbox) => response
            .map_body(|_, session| outbox.body(session))
            .map_into_boxed_body(),
        None => response,
    };
    let serve = serve(session, stream);
    // Every line the connection logs carries its id and where it comes from.
    let peer = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    // The echo is not the product's: the admin API does not list it.
    let entry = (endpoint != "echo").then(|| shared.conns.open(conn, endpoint, peer.clone()));
    let span = match client {
        Some(ip) if shared.config.trust_forwarded_for => {
            tracing::info_span!("conn", id = conn, endpoint, %peer, client = %ip)
        }
        _ => tracing::info_span!("conn", id = conn, endpoint, %peer),
    };
    actix_web::rt::spawn(
        shared.sessions.track_future(
            async move {
                let (_place, _entry) = (place, entry);
                let _open = crate::metrics::OpenConnection::new(endpoint);
                serve.await
            }
            .instrument(span),
        ),
    );
    Ok(response)
}

/// [`upgrade`] with a fresh outbox (`--outbox-capacity`): `serve` gets the socket, and the
/// outbox with the session's ends of the body that writes it.
fn upgrade_queued<F, O: body::Outgoing>(
    req: &HttpRequest,
    body: web::Payload,
    (shared, conn, endpoint): (&Shared, u64, &'static str),
    serve: impl FnOnce(
        (actix_ws::Session, actix_ws::MessageStream),
        (crate::broker::Outbox<O>, body::Ends<O::Close>),
    ) -> F,
) -> Result<HttpResponse, actix_web::Error>
where
    F: std::future::Future<Output = ()> + 'static,
{
    let (outbox, unstarted, ends) = body::outbox(shared.config.outbox_capacity);
    upgrade(
        req,
        body,
        (shared, conn, endpoint),
        Some(unstarted),
        move |session, stream| serve((session, stream), (outbox, ends)),
    )
}

/// The `?token=` of a WebSocket URL: a Tandem identity token or an app JWT, for clients that
/// cannot say `hello` first (or, on `/yjs`, cannot say anything but y-websocket).
pub(super) fn query_token(req: &HttpRequest) -> Option<String> {
    query_param(req, "token")
}

/// A query parameter of a WebSocket URL (`token`, `invite`), if present and not empty.
pub(super) fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    let query: web::Query<std::collections::HashMap<String, String>> =
        web::Query::from_query(req.query_string()).ok()?;
    query.get(name).filter(|v| !v.is_empty()).cloned()
}

/// `GET /ws` (optionally `?token=`, as if the first message were a `hello` with it)
pub(crate) async fn rooms(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = next_conn_id();
    let for_session = Shared::clone(&shared);
    let token = query_token(&req);
    upgrade_queued(&req, body, (&shared, id, "ws"), move |socket, queue| {
        session::run(for_session, socket, queue, id, token)
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
    let id = next_conn_id();
    let who = match access::admit_document(&shared, &req, &room, id).await {
        Ok(who) => who,
        Err(refused) => return Ok(refused),
    };
    let for_session = Shared::clone(&shared);
    upgrade_queued(&req, body, (&shared, id, "yjs"), move |socket, queue| {
        yjs::run(for_session, (room, who), socket, queue, id)
    })
}

/// `GET /echo` (only routed when the server runs with `--echo`).
pub(crate) async fn echo(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, actix_web::Error> {
    let (max, shutdown) = (shared.config.echo_max_message, shared.shutdown.clone());
    // The echo writes through actix-ws alone: it has no outbox, and waits on its peer.
    let no_outbox: Option<body::Unstarted<crate::wire::Wire>> = None;
    let id = next_conn_id();
    upgrade(
        &req,
        body,
        (&shared, id, "echo"),
        no_outbox,
        move |session, stream| echo::run(session, stream, max, shutdown),
    )
}
