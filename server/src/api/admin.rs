//! The admin API (what the `/admin` view shows and does): the live rooms with their figures
//! and the live connections; kicking a user from a room, making a room read-only, closing
//! it, and closing a connection or all of a user's.

use super::{room_name, ApiError};
use crate::rooms::{Moderation, Operation};
use crate::ws::session::Shared;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// `GET /api/rooms`: the rooms live on this node, by name.
pub(super) async fn rooms(shared: web::Data<Shared>) -> HttpResponse {
    let rooms = shared.rooms.stats().await;
    HttpResponse::Ok().json(serde_json::json!({ "rooms": rooms }))
}

/// `GET /api/connections`: this node's WebSocket connections, by id.
pub(super) async fn connections(shared: web::Data<Shared>) -> HttpResponse {
    let connections = shared.conns.list();
    HttpResponse::Ok().json(serde_json::json!({ "connections": connections }))
}

#[derive(Debug, Deserialize)]
pub(super) struct Kick {
    user: String,
    #[serde(default)]
    ban: bool,
}

/// `POST /api/rooms/{room}/kick`: `user` out of the room on every node (kept out for a
/// while, or for good with `ban`).
pub(super) async fn kick(
    shared: web::Data<Shared>,
    room: web::Path<String>,
    body: web::Json<Kick>,
) -> Result<HttpResponse, ApiError> {
    let Kick { user, ban } = body.into_inner();
    tandem_shared::ids::user_id(&user)?;
    operate(
        &shared,
        &room,
        Operation::Moderate(Moderation::Kick { user, ban }),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct ReadOnly {
    read_only: bool,
}

/// `PUT /api/rooms/{room}/read-only`: only the owner (and the API) write there, or everyone
/// who may.
pub(super) async fn read_only(
    shared: web::Data<Shared>,
    room: web::Path<String>,
    body: web::Json<ReadOnly>,
) -> Result<HttpResponse, ApiError> {
    let action = Moderation::SetReadOnly(body.read_only);
    operate(&shared, &room, Operation::Moderate(action)).await
}

/// `POST /api/rooms/{room}/close`: everyone out of the room, on every node.
pub(super) async fn close(
    shared: web::Data<Shared>,
    room: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    operate(&shared, &room, Operation::Close).await
}

async fn operate(shared: &Shared, room: &str, action: Operation) -> Result<HttpResponse, ApiError> {
    let room = room_name(room)?;
    match shared.rooms.operate(&room, action).await {
        Ok(Ok(())) => Ok(HttpResponse::NoContent().finish()),
        Ok(Err(refused)) => Err(ApiError::from_room(refused)),
        Err(_) => Err(ApiError::unavailable()),
    }
}

/// `DELETE /api/connections/{id}`: close one connection (1008, "closed by an operator").
pub(super) async fn close_connection(
    shared: web::Data<Shared>,
    id: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    match shared.conns.close(*id) {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(ApiError::NotFound(format!(
            "no connection {id} on this node"
        ))),
    }
}

/// `DELETE /api/users/{user}/connections`: close every connection of `user` on this node.
pub(super) async fn close_user(
    shared: web::Data<Shared>,
    user: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match shared.conns.close_user(&user) {
        0 => Err(ApiError::NotFound(format!(
            "user {user} has no connection on this node"
        ))),
        closed => Ok(HttpResponse::Ok().json(serde_json::json!({ "closed": closed }))),
    }
}
