//! The publish API: a backend posts to a room as a named bot (stored, numbered and delivered
//! like any chat; idempotent by `client_id` or `Idempotency-Key`), and reads its history a
//! page at a time.

use super::{room_name, ApiError};
use crate::ws::session::Shared;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tandem_shared::limits::{HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX};
use tandem_shared::{ids, Member, ServerMsg};

/// The sender's name when the request gives none.
const DEFAULT_BOT: &str = "api";

#[derive(Debug, Deserialize)]
pub(super) struct Publish {
    text: String,
    /// The bot's display name (`api` if absent).
    name: Option<String>,
    client_id: Option<String>,
}

/// `POST /api/rooms/{room}/messages`: 201 with the stored message (a retry of the same
/// `client_id` and text gets the original again; another text under it is 409).
pub(super) async fn publish(
    req: HttpRequest,
    shared: web::Data<Shared>,
    room: web::Path<String>,
    body: web::Json<Publish>,
) -> Result<HttpResponse, ApiError> {
    let room = room_name(&room)?;
    let Publish {
        text,
        name,
        client_id,
    } = body.into_inner();
    ids::chat_text(&text)?;
    let name = match name {
        Some(name) => ids::display_name(&name)?,
        None => DEFAULT_BOT.to_owned(),
    };
    // The body's key wins over the header's (which must be valid all the same).
    let header = idempotency_key(&req)?;
    if let Some(key) = &header {
        ids::client_id(key)?;
    }
    let client_id = client_id.or(header);
    if let Some(cid) = &client_id {
        ids::client_id(cid)?;
    }
    let sender = Member {
        id: format!("bot:{name}"),
        name,
        role: None,
    };
    match shared.rooms.publish(&room, sender, (text, client_id)).await {
        Ok(ServerMsg::Chat(msg)) => {
            Ok(HttpResponse::Created().json(serde_json::json!({ "message": msg })))
        }
        Ok(refused) => Err(ApiError::from_room(refused)),
        Err(_) => Err(ApiError::unavailable()),
    }
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("Idempotency-Key must be printable ASCII".into()))?;
    Ok(Some(key.to_owned()))
}

#[derive(Debug, Deserialize)]
pub(super) struct Page {
    before: Option<u64>,
    limit: Option<u32>,
}

/// `GET /api/rooms/{room}/messages?before=&limit=`: the newest `limit` messages before
/// `before` (or the newest), oldest first; 404 for a room with no messages that is not live.
pub(super) async fn history(
    shared: web::Data<Shared>,
    room: web::Path<String>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let room = room_name(&room)?;
    let limit = page.limit.unwrap_or(HISTORY_PAGE_DEFAULT);
    if limit == 0 || limit > HISTORY_PAGE_MAX {
        let msg = format!("limit must be 1 to {HISTORY_PAGE_MAX}");
        return Err(ApiError::BadRequest(msg));
    }
    if page.before == Some(0) {
        return Err(ApiError::BadRequest(
            "before must be a seq, 1 or more".into(),
        ));
    }
    let store = shared.rooms.store().clone();
    let (name, before) = (room.clone(), page.before);
    let read = move || store.history(&name, before, limit as usize);
    let page = match tokio::task::spawn_blocking(read).await {
        Ok(Ok(page)) => page,
        failure => {
            tracing::error!(%room, ?failure, "history read failed");
            return Err(ApiError::unavailable());
        }
    };
    if page.messages.is_empty() && before.is_none() && shared.rooms.stats_of(&room).await.is_none()
    {
        return Err(ApiError::NotFound(format!("room {room} has no messages")));
    }
    let messages: Vec<_> = page.messages.iter().map(|m| m.as_ref()).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "room": room.as_str(),
        "messages": messages,
        "has_more": page.has_more,
    })))
}
