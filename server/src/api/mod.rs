//! The HTTP API under `/api`: a backend's publish API (`messages.rs`) and the admin API
//! (`admin.rs`), both behind `Authorization: Bearer <key>` (`--api-key`, `--api-key-file`)
//! and a rate limit per key; its OpenAPI document, kept beside the code (`openapi.json`),
//! is served at `/api/openapi.json`.
//!
//! Every refusal is JSON `{code, message}` with its status ([`ApiError`]): a body or query
//! that does not parse is 400 (413 when too large), a missing or unknown key 401, what the
//! room refuses 403, nothing there 404, a key over its rate 429, a store or room that
//! cannot answer 503.

mod admin;
mod error;
mod messages;

pub(crate) use error::ApiError;

use crate::ws::session::Shared;
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use parking_lot::Mutex;
use std::{path::Path, time::Instant};

/// The largest request body the API reads (a message's text is at most 4000 characters).
const BODY_MAX: usize = 64 * 1024;

/// The keys the API accepts, and each one's rate limit.
pub(crate) struct ApiKeys {
    keys: Vec<String>,
    /// One bucket per key (by index in `keys`).
    limits: Mutex<Vec<crate::ws::RateLimit>>,
    per_sec: u32,
}

impl ApiKeys {
    /// The keys of `--api-key` and `--api-key-file`; each at least 16 characters.
    pub(crate) fn load(config: &crate::Config) -> Result<ApiKeys, crate::Error> {
        let mut keys = config.api_keys.clone();
        if let Some(path) = &config.api_key_file {
            keys.extend(read_key_file(path)?);
        }
        if let Some(short) = keys.iter().find(|k| k.chars().count() < 16) {
            let shown: String = short.chars().take(3).collect();
            return Err(crate::Error::Config(format!(
                "API key {shown}… is too short: use at least 16 characters"
            )));
        }
        let now = Instant::now();
        let per_sec = config.api_rate_per_sec;
        let limit = || crate::ws::RateLimit::new(per_sec.saturating_mul(2), per_sec, now);
        Ok(ApiKeys {
            limits: Mutex::new(keys.iter().map(|_| limit()).collect()),
            keys,
            per_sec,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The request carries a key this server accepts, and the key is within its rate.
    fn admit(&self, req: &HttpRequest) -> Result<(), ApiError> {
        if self.keys.is_empty() {
            return Err(ApiError::Unauthorized(
                "this server has no API keys: start it with --api-key or --api-key-file",
            ));
        }
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized(
                "send the API key as Authorization: Bearer <key>",
            ))?;
        let index = self
            .keys
            .iter()
            .position(|k| crate::access::rules::constant_time_eq(k.as_bytes(), given.as_bytes()))
            .ok_or(ApiError::Unauthorized("this API key is not valid here"))?;
        use crate::ws::Verdict;
        match self.limits.lock()[index].check(Instant::now()) {
            Verdict::Allow => Ok(()),
            Verdict::Refuse { .. } | Verdict::Close => Err(ApiError::RateLimited(self.per_sec)),
        }
    }
}

fn read_key_file(path: &Path) -> Result<Vec<String>, crate::Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::Error::Config(format!("--api-key-file {}: {e}", path.display())))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// Every request but the OpenAPI document's must carry a key this server accepts, within
/// its rate: checked before anything else is read.
fn gate(req: &HttpRequest) -> Result<(), ApiError> {
    if req.path() == "/api/openapi.json" {
        return Ok(());
    }
    let shared = req
        .app_data::<web::Data<Shared>>()
        .ok_or(ApiError::Unavailable("the API is not set up".into()))?;
    shared.api.admit(req)
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    let json = web::JsonConfig::default()
        .limit(BODY_MAX)
        .error_handler(|err, _| ApiError::from(err).into());
    let query = web::QueryConfig::default()
        .error_handler(|err, _| ApiError::BadRequest(format!("query: {err}")).into());
    let path = web::PathConfig::default()
        .error_handler(|err, _| ApiError::BadRequest(format!("path: {err}")).into());
    // Another method than the endpoint's is 405, with the ones it takes.
    let endpoint = |path: &str, allow: &'static str| {
        let refuse =
            move || async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow)) };
        web::resource(path).default_service(web::to(refuse))
    };
    cfg.service(
        web::scope("/api")
            .wrap_fn(|req, srv| {
                use actix_web::{dev::Service, ResponseError};
                let call = match gate(req.request()) {
                    Ok(()) => Ok(srv.call(req)),
                    Err(refused) => Err(req.into_response(refused.error_response())),
                };
                async move {
                    match call {
                        Ok(call) => call.await.map(|res| res.map_into_left_body()),
                        Err(refused) => Ok(refused.map_into_right_body()),
                    }
                }
            })
            .app_data(json)
            .app_data(query)
            .app_data(path)
            .service(endpoint("/openapi.json", "GET").route(web::get().to(openapi)))
            .service(endpoint("/rooms", "GET").route(web::get().to(admin::rooms)))
            .service(
                endpoint("/rooms/{room}/messages", "GET, POST")
                    .route(web::post().to(messages::publish))
                    .route(web::get().to(messages::history)),
            )
            .service(endpoint("/rooms/{room}/kick", "POST").route(web::post().to(admin::kick)))
            .service(
                endpoint("/rooms/{room}/read-only", "PUT").route(web::put().to(admin::read_only)),
            )
            .service(endpoint("/rooms/{room}/close", "POST").route(web::post().to(admin::close)))
            .service(endpoint("/connections", "GET").route(web::get().to(admin::connections)))
            .service(
                endpoint("/connections/{id}", "DELETE")
                    .route(web::delete().to(admin::close_connection)),
            )
            .service(
                endpoint("/users/{user}/connections", "DELETE")
                    .route(web::delete().to(admin::close_user)),
            )
            .default_service(web::to(not_found)),
    );
}

/// The OpenAPI 3.1 document of this API (kept beside the code; a test holds them to it).
pub(crate) const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(
        "no such API endpoint; see /api/openapi.json".into(),
    ))
}

/// A room name from the path.
fn room_name(room: &str) -> Result<tandem_shared::ids::RoomName, ApiError> {
    tandem_shared::ids::RoomName::new(room).map_err(ApiError::from)
}
