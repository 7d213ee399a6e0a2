//! The room task's requests that read the store or change the room's rules, and so await:
//! a join (its admission, and an invite that makes a new member, stored first), a history
//! page, and moderation (stored through the access book, then applied to the room).

use super::State;
use crate::access::{rules::new_invite, Denied, Who};
use crate::broker::{relay::Action, ConnId, Outbox};
use crate::rooms::Moderation;
use crate::ws::codec;
use tandem_shared::{ErrorCode, Role, ServerMsg};

impl State {
    fn error(&self, code: ErrorCode, message: impl Into<String>) -> ServerMsg {
        ServerMsg::Error {
            code,
            message: message.into(),
            room: Some(self.name.to_string()),
            client_id: None,
        }
    }

    fn unavailable(&self) -> ServerMsg {
        self.error(
            ErrorCode::Unavailable,
            "the room is unavailable right now; try again",
        )
    }

    /// The rules as the access book has them now.
    pub(super) fn refresh_rules(&mut self) {
        let rules = self.rules.borrow_and_update().clone();
        self.room.set_rules(rules);
    }

    /// Let `who` in if the rules admit them (a valid invite makes them a member, stored
    /// first); returns whether they are in. A refusal is answered on `outbox` here.
    pub(super) async fn join(
        &mut self,
        conn: ConnId,
        who: Who,
        name: String,
        since: Option<u64>,
        invite: Option<String>,
        outbox: &Outbox,
    ) -> bool {
        let refuse = |this: &Self, msg: ServerMsg| {
            outbox.deliver(codec::encode(&msg));
            tracing::info!(room = %this.name, conn, user = %who.user, "join refused");
            false
        };
        let now = super::now_ms();
        match self.room.rules().admit(&who, invite.as_deref(), now) {
            Err(denied) => return refuse(self, self.error(ErrorCode::Forbidden, denied.0)),
            Ok((_, false)) => {}
            Ok((_, true)) => {
                let user = who.user.clone();
                let book = self.rooms.book().clone();
                let added = book
                    .update(&self.name, move |rules| {
                        let again = Who {
                            user: user.clone(),
                            app: None,
                        };
                        rules.admit(&again, invite.as_deref(), now)?;
                        rules.add_member(&user);
                        Ok(())
                    })
                    .await;
                match added {
                    Ok(Ok(())) => {
                        self.refresh_rules();
                        self.relay(crate::broker::Relay::Rules { action: None });
                    }
                    Ok(Err(denied)) => {
                        return refuse(self, self.error(ErrorCode::Forbidden, denied.0))
                    }
                    Err(_) => return refuse(self, self.unavailable()),
                }
            }
        }
        // Through another node the client may have seen messages this node has not taken
        // yet: read them first, so that `since` is answered exactly.
        if since.is_some_and(|s| s > self.room.last_seq()) && self.room.in_cluster_mode() {
            self.catch_up(None).await;
        }
        self.room.join(conn, who, name, since, &mut self.out);
        true
    }

    /// A page of stored history, for a connection in the room. Answered on `reply` after
    /// what is queued before it (the batch's outputs), so it stays in order.
    pub(super) async fn history(
        &mut self,
        conn: ConnId,
        before: Option<u64>,
        limit: usize,
        reply: &Outbox,
    ) {
        if self.room.who(conn).is_none() {
            let msg = self.error(
                ErrorCode::NotJoined,
                format!("join room {} before reading its history", self.name),
            );
            return reply.deliver(codec::encode(&msg));
        }
        let store = self.rooms.inner.store.clone();
        let name = self.name.clone();
        let read = move || store.history(&name, before, limit);
        let answer = match tokio::task::spawn_blocking(read).await {
            Ok(Ok(page)) => ServerMsg::History {
                room: self.name.to_string(),
                messages: page
                    .messages
                    .iter()
                    .map(|m| tandem_shared::ChatMessage::clone(m))
                    .collect(),
                has_more: page.has_more,
            },
            failure => {
                tracing::error!(room = %self.name, ?before, limit, ?failure, "history read failed");
                self.unavailable()
            }
        };
        self.out.push(crate::rooms::room::Output::To(conn, answer));
    }

    /// A moderator's request: checked against the rules, stored through the access book,
    /// then applied (people removed, roles and read-only announced).
    pub(super) async fn moderate(&mut self, conn: ConnId, action: Moderation, reply: &Outbox) {
        use crate::rooms::room::Output;
        let Some(who) = self.room.who(conn).cloned() else {
            let msg = self.error(
                ErrorCode::NotJoined,
                format!("join room {} first", self.name),
            );
            return reply.deliver(codec::encode(&msg));
        };
        tracing::info!(room = %self.name, conn, ?action, "moderating");
        match self.enforce(Some(who), action).await {
            Ok(None) => {}
            Ok(Some(msg)) | Err(msg) => self.out.push(Output::To(conn, msg)),
        }
    }

    /// Moderation by `by` (`None`: an operator, whose rights are not checked): checked
    /// against the rules, stored through the access book, relayed to the other nodes and
    /// applied. `Ok` carries what only its author is told (a new invite), `Err` the refusal.
    pub(super) async fn enforce(
        &mut self,
        by: Option<Who>,
        action: Moderation,
    ) -> Result<Option<ServerMsg>, ServerMsg> {
        let book = self.rooms.book().clone();
        let act = action.clone();
        let now = super::now_ms();
        let may = move |rules: &crate::access::RoomAccess, target: &str| match &by {
            Some(who) => rules.may_moderate(who, target),
            None => Ok(()),
        };
        let changed = book
            .update(&self.name, move |rules| {
                match &act {
                    Moderation::Kick { user, ban } => {
                        may(rules, user)?;
                        rules.expel(user, *ban, now);
                    }
                    Moderation::SetRole { user, role } => {
                        may(rules, user)?;
                        if *role == Role::Owner || !rules.roles.contains_key(user) {
                            return Err(Denied(
                                "only members of a private room get a role, and there is one owner",
                            ));
                        }
                        rules.roles.insert(user.clone(), *role);
                    }
                    Moderation::SetReadOnly(read_only) => {
                        may(rules, "")?;
                        rules.read_only = *read_only;
                    }
                    Moderation::RotateInvite => {
                        may(rules, "")?;
                        if !rules.private {
                            return Err(Denied("a public room has no invite"));
                        }
                        rules.invite = Some(new_invite());
                    }
                }
                Ok(())
            })
            .await;
        match changed {
            Ok(Ok(())) => self.refresh_rules(),
            Ok(Err(denied)) => return Err(self.error(ErrorCode::Forbidden, denied.0)),
            Err(_) => return Err(self.unavailable()),
        }
        tracing::info!(room = %self.name, ?action, "moderated");
        let effect = action.effect();
        self.relay(crate::broker::Relay::Rules {
            action: effect.clone(),
        });
        match effect {
            Some(effect) => {
                self.apply(&effect).await;
                Ok(None)
            }
            // A new invite: only its owner is told.
            None => {
                let invite = self.room.rules().invite.clone().unwrap_or_default();
                Ok(Some(ServerMsg::Invite {
                    room: self.name.to_string(),
                    invite,
                }))
            }
        }
    }

    /// What a stored moderation action does to the people in this room, whether it was
    /// taken here or on another node: a removed user is out of the chat, presence and the
    /// document now; everyone sees a new role, or whether the room is read-only.
    pub(super) async fn apply(&mut self, effect: &Action) {
        match effect {
            Action::Kick { user, ban } => {
                self.room.remove_user(user, *ban, &mut self.out);
                self.rooms.inner.docs.expel(&self.name, Some(user)).await;
            }
            Action::SetRole { user, role } => self.room.role_changed(user, *role, &mut self.out),
            Action::SetReadOnly { .. } => self.room.read_only_changed(&mut self.out),
        }
    }
}
