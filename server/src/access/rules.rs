//! Who may do what in a room: [`RoomAccess`], the room's rules as stored (private or public,
//! owner, invite, read-only, roles, bans), and the decisions the room core takes with them.
//! Pure: no IO, no awaits.
//!
//! A public room admits anyone who is not banned; a private room admits its members (by
//! role) and, once, whoever brings its current invite (they become members). Rights in an
//! app JWT (see `crate::identity`) narrow or grant what a connection may do in the rooms the
//! JWT names. Private room ids start with [`PRIVATE_PREFIX`]: such a room that does not
//! exist answers exactly like one the user may not enter, so nobody learns it exists.

use std::collections::BTreeMap;
use tandem_shared::Role;

/// Private room ids (server-chosen, unguessable) start with this; a public room cannot.
pub const PRIVATE_PREFIX: &str = "p-";

/// A room's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomAccess {
    pub private: bool,
    /// A private room's title (its id is not meant to be read).
    pub title: Option<String>,
    pub owner: Option<String>,
    /// The secret that lets a new member in (private rooms).
    pub invite: Option<String>,
    /// Only the owner (and moderators) may write and edit.
    pub read_only: bool,
    /// Private rooms: every member's role (the owner's too).
    pub roles: BTreeMap<String, Role>,
    /// Users who may not enter: for good (`None`), or until a time (ms since the epoch) —
    /// a kick keeps its user out for [`KICK_MS`].
    pub banned: BTreeMap<String, Option<u64>>,
}

/// How long a kicked user stays out (a ban is for good).
pub const KICK_MS: u64 = 15 * 60 * 1000;

/// What an app JWT allows a connection in one room (all `false` for a room it does not
/// name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rights {
    pub read: bool,
    pub write: bool,
    pub edit: bool,
    pub moderate: bool,
}

/// Who is asking: a user, and the rights an app JWT gives them here (`None`: a Tandem
/// identity, governed by the room's rules alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub user: String,
    pub app: Option<Rights>,
}

impl From<&str> for Who {
    /// A Tandem user (no app JWT).
    fn from(user: &str) -> Who {
        Who {
            user: user.to_owned(),
            app: None,
        }
    }
}

/// A refusal. The message is safe to show, and never says whether a private room exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub &'static str);

pub const NO_ENTRY: Denied = Denied("you may not enter this room (it needs an invite)");
const BANNED: Denied = Denied("you may not enter this room");
const NOT_MODERATOR: Denied = Denied("only the room's owner may do that");
const READ_ONLY: Denied = Denied("this room is read-only for you");

/// A private room id: [`PRIVATE_PREFIX`] and 26 random lowercase letters and digits.
pub fn private_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let tail: String = (0..26)
        .map(|_| ALPHABET[rand::random::<usize>() % ALPHABET.len()] as char)
        .collect();
    format!("{PRIVATE_PREFIX}{tail}")
}

/// A new invite secret (128 random bits, hex).
pub fn new_invite() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl RoomAccess {
    /// The rules of a room that has no stored record: public, unless its id is a private
    /// one (then nobody may enter: it does not exist).
    pub fn unrecorded(room: &str) -> RoomAccess {
        RoomAccess {
            private: room.starts_with(PRIVATE_PREFIX),
            ..RoomAccess::default()
        }
    }

    /// A new private room owned by `owner`.
    pub fn new_private(owner: &str, title: String) -> RoomAccess {
        RoomAccess {
            private: true,
            title: Some(title),
            owner: Some(owner.to_owned()),
            invite: Some(new_invite()),
            read_only: false,
            roles: BTreeMap::from([(owner.to_owned(), Role::Owner)]),
            banned: BTreeMap::new(),
        }
    }

    /// `who`'s role, for a private room.
    pub fn role(&self, who: &Who) -> Option<Role> {
        self.roles.get(&who.user).copied()
    }

    /// Is `user` kept out at `now` (ms since the epoch)?
    pub fn is_banned(&self, user: &str, now: u64) -> bool {
        self.banned
            .get(user)
            .is_some_and(|until| until.is_none_or(|t| t > now))
    }

    /// Keep `user` out: for good with `ban`, else for [`KICK_MS`] from `now`. Out of a
    /// private room, they would need its invite again anyway.
    pub fn expel(&mut self, user: &str, ban: bool, now: u64) {
        self.roles.remove(user);
        let until = (!ban).then_some(now + KICK_MS);
        let entry = self.banned.entry(user.to_owned()).or_insert(until);
        // A kick never shortens a ban.
        if ban {
            *entry = None;
        }
        // Forget kicks that are over.
        self.banned.retain(|_, until| until.is_none_or(|t| t > now));
    }

    /// May `who` come in at `now` (with `invite`, if they brought one)? On success, the role
    /// they have and whether they just became a member (the rules changed: store them).
    pub fn admit(
        &self,
        who: &Who,
        invite: Option<&str>,
        now: u64,
    ) -> Result<(Option<Role>, bool), Denied> {
        if self.is_banned(&who.user, now) {
            return Err(BANNED);
        }
        if let Some(rights) = who.app {
            if !rights.read {
                return Err(NO_ENTRY);
            }
            // The app vouches for its users in the rooms it names.
            let role = self.role(who).or(self.private.then_some(if rights.write {
                Role::Member
            } else {
                Role::Viewer
            }));
            return Ok((role, false));
        }
        if !self.private {
            return Ok((None, false));
        }
        if let Some(role) = self.role(who) {
            return Ok((Some(role), false));
        }
        let valid = self.invite.as_deref().is_some_and(|secret| {
            invite.is_some_and(|given| constant_time_eq(given.as_bytes(), secret.as_bytes()))
        });
        if valid {
            Ok((Some(Role::Member), true))
        } else {
            Err(NO_ENTRY)
        }
    }

    /// Record that `user` came in with the invite.
    pub fn add_member(&mut self, user: &str) {
        self.roles.entry(user.to_owned()).or_insert(Role::Member);
    }

    pub fn can_moderate(&self, who: &Who) -> bool {
        match who.app {
            Some(rights) => rights.moderate,
            None => self.role(who) == Some(Role::Owner),
        }
    }

    /// May `who` post chat messages (`edit`: change the document)? (Whoever is in the room
    /// was admitted; a kick or ban takes them out of it.)
    fn may(&self, who: &Who, edit: bool) -> Result<(), Denied> {
        if self.can_moderate(who) {
            return Ok(());
        }
        let allowed = match (who.app, self.private) {
            (Some(r), _) => {
                (if edit { r.edit } else { r.write }) && self.role(who) != Some(Role::Viewer)
            }
            (None, true) => self.role(who) == Some(Role::Member),
            (None, false) => true,
        };
        if allowed && !self.read_only {
            Ok(())
        } else {
            Err(READ_ONLY)
        }
    }

    pub fn may_write(&self, who: &Who) -> Result<(), Denied> {
        self.may(who, false)
    }

    pub fn may_edit(&self, who: &Who) -> Result<(), Denied> {
        self.may(who, true)
    }

    /// Moderation is allowed (`who` moderates, and the target is not the owner).
    pub fn may_moderate(&self, who: &Who, target: &str) -> Result<(), Denied> {
        if !self.can_moderate(who) || self.owner.as_deref() == Some(target) {
            return Err(NOT_MODERATOR);
        }
        Ok(())
    }
}

/// Compare secrets without an early exit an observer could time.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(user: &str) -> Who {
        Who {
            user: user.into(),
            app: None,
        }
    }

    #[test]
    fn public_rooms_admit_everyone_but_the_banned() {
        let mut a = RoomAccess::unrecorded("lobby");
        assert!(!a.private);
        assert_eq!(a.admit(&who("x"), None, 0), Ok((None, false)));
        assert!(a.may_write(&who("x")).is_ok());
        // A kick keeps out for a while, a ban for good (and a kick never shortens a ban).
        a.expel("x", false, 1_000);
        assert!(a.admit(&who("x"), None, 1_000 + KICK_MS - 1).is_err());
        assert!(a.admit(&who("x"), None, 1_000 + KICK_MS).is_ok());
        a.expel("y", true, 0);
        a.expel("y", false, 0);
        assert!(a.admit(&who("y"), None, u64::MAX).is_err());
        a.expel("z", false, 5 * KICK_MS);
        assert!(
            !a.banned.contains_key("x"),
            "kicks that are over are forgotten"
        );
        // Nobody owns a public room: only an app's moderators moderate it.
        assert!(a.may_moderate(&who("y"), "x").is_err());
    }

    #[test]
    fn private_rooms_need_the_current_invite_once() {
        let mut a = RoomAccess::new_private("own", "Team".into());
        let invite = a.invite.clone().unwrap();
        assert_eq!(
            a.admit(&who("own"), None, 0),
            Ok((Some(Role::Owner), false))
        );
        assert_eq!(a.admit(&who("m"), None, 0), Err(NO_ENTRY));
        assert_eq!(a.admit(&who("m"), Some("wrong"), 0), Err(NO_ENTRY));
        assert_eq!(
            a.admit(&who("m"), Some(&invite), 0),
            Ok((Some(Role::Member), true))
        );
        a.add_member("m");
        // A member comes back without it; a new invite stops the old link, not members.
        a.invite = Some(new_invite());
        assert_eq!(a.admit(&who("m"), None, 0), Ok((Some(Role::Member), false)));
        assert_eq!(a.admit(&who("n"), Some(&invite), 0), Err(NO_ENTRY));
        // An id that was never created answers like a room without its invite.
        let ghost = RoomAccess::unrecorded(&private_id());
        assert!(ghost.private);
        assert_eq!(ghost.admit(&who("m"), Some(&invite), 0), Err(NO_ENTRY));
    }

    #[test]
    fn roles_and_read_only() {
        let mut a = RoomAccess::new_private("own", "Team".into());
        a.add_member("m");
        a.roles.insert("v".into(), Role::Viewer);
        assert!(a.may_write(&who("m")).is_ok());
        assert!(a.may_edit(&who("m")).is_ok());
        assert!(a.may_write(&who("v")).is_err());
        assert!(a.may_edit(&who("v")).is_err());
        a.read_only = true;
        assert!(a.may_write(&who("m")).is_err());
        assert!(a.may_write(&who("own")).is_ok(), "the owner still writes");
        assert!(a.may_moderate(&who("own"), "m").is_ok());
        assert!(a.may_moderate(&who("m"), "v").is_err());
        assert!(
            a.may_moderate(&who("own"), "own").is_err(),
            "no kicking the owner"
        );
    }

    #[test]
    fn app_rights_narrow_and_grant() {
        let a = RoomAccess::new_private("own", "Team".into());
        let reader = Who {
            user: "r".into(),
            app: Some(Rights {
                read: true,
                ..Rights::default()
            }),
        };
        assert_eq!(a.admit(&reader, None, 0), Ok((Some(Role::Viewer), false)));
        assert!(a.may_write(&reader).is_err());
        let writer = Who {
            user: "w".into(),
            app: Some(Rights {
                read: true,
                write: true,
                ..Rights::default()
            }),
        };
        assert!(a.may_write(&writer).is_ok());
        assert!(a.may_edit(&writer).is_err(), "edit is its own right");
        let outsider = Who {
            user: "o".into(),
            app: Some(Rights::default()),
        };
        assert_eq!(a.admit(&outsider, None, 0), Err(NO_ENTRY));
        let moderator = Who {
            user: "mod".into(),
            app: Some(Rights {
                read: true,
                moderate: true,
                ..Rights::default()
            }),
        };
        assert!(a.may_moderate(&moderator, "w").is_ok());
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
        assert_eq!(private_id().len(), PRIVATE_PREFIX.len() + 26);
    }
}
