//! The room-protocol messages about who a connection is and what it may do: `hello {jwt}`
//! and `refresh` (an app's users, see `crate::identity::app`), `create_room` (a private
//! room, its owner the creator) and the owner's moderation (`kick`, `set_role`,
//! `set_read_only`, `rotate_invite`), which the room carries out.

use super::codec;
use super::handlers::{error, unavailable, Conn, Flow};
use super::session::Shared;
use crate::access::{rules, Who};
use crate::rooms::Moderation;
use std::time::{Duration, Instant, SystemTime};
use tandem_shared::{ids, ids::RoomName, ClientMsg, ErrorCode, ServerMsg, PROTOCOL_VERSION};

impl Conn {
    /// Who this connection is in `room`: its user, and its app JWT's rights there.
    pub(super) fn who(&self, room: &RoomName) -> Who {
        Who {
            user: self.user.clone(),
            app: self.app.as_ref().and_then(|a| a.rights(room.as_str())),
        }
    }

    /// The name shown: the app JWT's, when it gives one; else the one asked for.
    pub(super) fn display_name(&self, asked: String) -> String {
        self.app
            .as_ref()
            .and_then(|a| a.name.clone())
            .unwrap_or(asked)
    }

    /// When the app JWT expires (the connection is closed with 4401 then, unless refreshed).
    pub(super) fn expires_at(&self) -> Option<Instant> {
        let exp = self.app.as_ref()?.exp;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Some(Instant::now() + Duration::from_secs(exp.saturating_sub(now)))
    }
}

fn reply(conn: &Conn, msg: ServerMsg) {
    conn.outbox.deliver(codec::encode(&msg));
}

/// `hello {jwt}`: be the app's user the JWT names, with its rights. A JWT that does not
/// check out leaves the connection the fresh user of its `welcome`.
pub(super) fn hello_jwt(shared: &Shared, conn: &mut Conn, jwt: &str) {
    let Some(keys) = &shared.app_keys else {
        let why = crate::identity::BadJwt::NotConfigured.to_string();
        return reply(conn, error(ErrorCode::BadJwt, why, None));
    };
    match keys.verify(jwt) {
        Ok(claims) => {
            tracing::debug!(conn = conn.id, user = %claims.user, "app user");
            conn.user = claims.user.clone();
            conn.app = Some(claims);
            reply(
                conn,
                ServerMsg::Hello {
                    protocol_version: PROTOCOL_VERSION,
                    user_id: conn.user.clone(),
                    // An app user's credential is the app's JWT: no Tandem token for it.
                    token: None,
                },
            );
        }
        Err(err) => {
            tracing::info!(conn = conn.id, %err, "hello with a bad app JWT");
            reply(conn, error(ErrorCode::BadJwt, err.to_string(), None));
        }
    }
}

/// A `?token=` on the URL: an identity token (as `hello {token}`) or, when the app's key
/// is configured and it is not one, an app JWT (as `hello {jwt}`).
pub(super) fn hello_with(shared: &Shared, conn: &mut Conn, token: &str) {
    if shared.app_keys.is_some() && shared.identities.verify(token).is_err() {
        hello_jwt(shared, conn, token);
    } else {
        super::handlers::hello(shared, conn, Some(token));
    }
}

/// `refresh {jwt}`: a fresh JWT for the same app user pushes the connection's expiry back.
fn refresh(shared: &Shared, conn: &mut Conn, jwt: &str) {
    let checked = match (&shared.app_keys, &conn.app) {
        (Some(keys), Some(current)) => keys.verify(jwt).map_err(|e| e.to_string()).and_then(|c| {
            if c.user == current.user {
                Ok(c)
            } else {
                Err("the new JWT names another user".to_owned())
            }
        }),
        _ => Err("this connection did not sign in with an app JWT".to_owned()),
    };
    match checked {
        Ok(claims) => conn.app = Some(claims),
        Err(why) => reply(conn, error(ErrorCode::BadJwt, why, None)),
    }
}

/// `create_room`: a private room owned by this user; answered with its id and invite.
async fn create_room(shared: &Shared, conn: &Conn, private: bool, name: String) {
    if !private {
        let msg = "public rooms need no creating: join one by its name";
        return reply(conn, error(ErrorCode::InvalidMessage, msg, None));
    }
    if conn.app.as_ref().is_some_and(|a| a.rooms.is_some()) {
        let msg = "your app decides which rooms you use";
        return reply(conn, error(ErrorCode::Forbidden, msg, None));
    }
    let title = match ids::display_name(&name) {
        Ok(t) => t,
        Err(e) => return reply(conn, error(e.code, e.message, None)),
    };
    let id = rules::private_id();
    // unwrap: private ids are letters, digits and '-' within the length limit.
    let room = RoomName::new(&id).expect("private ids are valid room names");
    let access = rules::RoomAccess::new_private(&conn.user, title.clone());
    let invite = access.invite.clone().unwrap_or_default();
    match shared.rooms.book().create(&room, access).await {
        Ok(()) => {
            tracing::info!(room = %room, user = %conn.user, "private room created");
            reply(
                conn,
                ServerMsg::RoomCreated {
                    room: id,
                    name: title,
                    invite,
                },
            );
        }
        Err(_) => reply(conn, unavailable(&id)),
    }
}

/// Who a `/yjs/<room>` handshake is (its `?token=`: an identity token or an app JWT; none:
/// an anonymous user of its own), and whether the room lets them in — with `?invite=`, a
/// private room's invite makes them a member as `join` would. A refusal is the 403 to answer;
/// it says the same whether or not the room exists.
pub(super) async fn admit_document(
    shared: &Shared,
    req: &actix_web::HttpRequest,
    room: &RoomName,
    conn: crate::broker::ConnId,
) -> Result<Who, actix_web::HttpResponse> {
    let forbidden = |why: &str| actix_web::HttpResponse::Forbidden().body(format!("{why}\n"));
    let who = match super::query_token(req) {
        None => Who::from(format!("anon-{conn:x}").as_str()),
        Some(token) => match shared.identities.verify(&token) {
            Ok(verified) => Who::from(verified.user.as_str()),
            Err(_) => match shared.app_keys.as_ref().map(|k| k.verify(&token)) {
                Some(Ok(claims)) => Who {
                    user: claims.user.clone(),
                    app: claims.rights(room.as_str()),
                },
                _ => return Err(forbidden("the token is not valid here")),
            },
        },
    };
    let invite = super::query_param(req, "invite");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let book = shared.rooms.book();
    let rules = book
        .get(room)
        .await
        .map_err(|_| actix_web::HttpResponse::ServiceUnavailable().body("try again\n"))?;
    match rules.admit(&who, invite.as_deref(), now) {
        Ok((_, false)) => Ok(who),
        Ok((_, true)) => {
            let (user, invite) = (who.user.clone(), invite.clone());
            let added = book
                .update(room, move |rules| {
                    rules.admit(&Who::from(user.as_str()), invite.as_deref(), now)?;
                    rules.add_member(&user);
                    Ok(())
                })
                .await;
            match added {
                Ok(Ok(())) => Ok(who),
                Ok(Err(denied)) => Err(forbidden(denied.0)),
                Err(_) => Err(actix_web::HttpResponse::ServiceUnavailable().body("try again\n")),
            }
        }
        Err(denied) => {
            tracing::info!(%room, user = %who.user, "document handshake refused");
            Err(forbidden(denied.0))
        }
    }
}

/// The messages of this module.
pub(super) async fn handle(shared: &Shared, conn: &mut Conn, msg: ClientMsg) -> Flow {
    let (room, action) = match msg {
        ClientMsg::CreateRoom { private, name } => {
            create_room(shared, conn, private, name).await;
            return Flow::Continue;
        }
        ClientMsg::Refresh { jwt } => {
            refresh(shared, conn, &jwt);
            return Flow::Continue;
        }
        ClientMsg::Kick { room, user, ban } => (room, Moderation::Kick { user, ban }),
        ClientMsg::SetRole { room, user, role } => (room, Moderation::SetRole { user, role }),
        ClientMsg::SetReadOnly { room, read_only } => (room, Moderation::SetReadOnly(read_only)),
        ClientMsg::RotateInvite { room } => (room, Moderation::RotateInvite),
        _ => return Flow::Continue,
    };
    let room_name = match RoomName::new(&room) {
        Ok(r) => r,
        Err(e) => {
            reply(conn, error(e.code, e.message, Some(&room)));
            return Flow::Continue;
        }
    };
    if !conn.joined.contains(&room_name) {
        let msg = format!("join room {room} first");
        reply(conn, error(ErrorCode::NotJoined, msg, Some(&room)));
        return Flow::Continue;
    }
    if shared
        .rooms
        .moderate(&room_name, conn.id, action, conn.outbox.clone())
        .await
        .is_err()
    {
        reply(conn, unavailable(&room));
    }
    Flow::Continue
}
