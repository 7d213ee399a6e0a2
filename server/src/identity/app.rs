//! Embedding: an app's own users, vouched for by a JWT the app's backend signs — HS256 with
//! `--jwt-secret`, or RS256/ES256 with the public key in `--jwt-public-key` (PEM). Passed in
//! `hello {jwt}` (or `?token=` on `/ws` and `/yjs/<room>`), it names the user (`sub`), how
//! they are shown (`name`), when it expires (`exp`) and, optionally, the rooms it may use
//! with rights:
//!
//! ```json
//! {"sub": "42", "name": "Ada", "exp": 1767225600,
//!  "rooms": {"support-42": ["read", "write", "edit"], "*": ["read"]}}
//! ```
//!
//! Without `rooms` the user may go wherever a Tandem user may (public rooms, private rooms
//! by invite). With it, only to the rooms it names (`*`: any other), with those rights
//! (`read`: enter and read; `write`: post; `edit`: change the document; `moderate`: kick,
//! ban, roles, read-only, invites). App users are `app:<sub>` so they never collide with
//! Tandem's own ids.

use crate::access::Rights;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The prefix of app users' public ids.
pub const APP_PREFIX: &str = "app:";

/// What the app's JWT says, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClaims {
    /// The public user id (`app:<sub>`).
    pub user: String,
    pub name: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// `None`: no `rooms` claim (no restriction beyond the rooms' own rules).
    pub rooms: Option<BTreeMap<String, Rights>>,
}

impl AppClaims {
    /// The rights in `room`, if the JWT restricts rooms at all.
    pub fn rights(&self, room: &str) -> Option<Rights> {
        let rooms = self.rooms.as_ref()?;
        Some(
            rooms
                .get(room)
                .or_else(|| rooms.get("*"))
                .copied()
                .unwrap_or_default(),
        )
    }
}

#[derive(Deserialize)]
struct Raw {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    exp: u64,
    #[serde(default)]
    rooms: Option<BTreeMap<String, Vec<String>>>,
}

/// Why an app JWT was refused (the message is safe to send).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadJwt {
    #[error("app JWTs are not accepted here (no --jwt-secret or --jwt-public-key)")]
    NotConfigured,
    #[error("the JWT is not valid: {0}")]
    Invalid(String),
}

/// The app's key, and how its tokens are checked.
pub struct AppKeys {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for AppKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKeys")
            .field("algorithms", &self.validation.algorithms)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppKeyError {
    #[error("--jwt-public-key {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("--jwt-public-key {0}: neither an RSA nor an EC (P-256) public key in PEM")]
    Pem(std::path::PathBuf),
    #[error("--jwt-secret must not be empty")]
    EmptySecret,
}

impl AppKeys {
    fn with(key: DecodingKey, algorithm: Algorithm) -> AppKeys {
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_aud = false;
        validation.leeway = 0;
        AppKeys { key, validation }
    }

    /// HS256 with a shared secret.
    pub fn secret(secret: &str) -> Result<AppKeys, AppKeyError> {
        let key =
            DecodingKey::from_secret(secret.as_bytes()).map_err(|_| AppKeyError::EmptySecret)?;
        Ok(Self::with(key, Algorithm::HS256))
    }

    /// RS256 or ES256 with a public key in PEM (which one the key says).
    pub fn public_key(path: &std::path::Path) -> Result<AppKeys, AppKeyError> {
        let pem = std::fs::read(path).map_err(|source| AppKeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
            return Ok(Self::with(key, Algorithm::RS256));
        }
        if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
            return Ok(Self::with(key, Algorithm::ES256));
        }
        Err(AppKeyError::Pem(path.to_owned()))
    }

    /// Check `jwt` and read its claims.
    pub fn verify(&self, jwt: &str) -> Result<AppClaims, BadJwt> {
        let bad = |e: &dyn std::fmt::Display| BadJwt::Invalid(e.to_string());
        let raw = jsonwebtoken::decode::<Raw>(jwt, &self.key, &self.validation)
            .map_err(|e| bad(&e))?
            .claims;
        let user = format!("{APP_PREFIX}{}", raw.sub);
        tandem_shared::ids::user_id(&user)
            .map_err(|_| bad(&"`sub` must be printable ASCII, at most 60 characters"))?;
        let name = match raw.name {
            Some(n) => Some(tandem_shared::ids::display_name(&n).map_err(|e| bad(&e))?),
            None => None,
        };
        let rooms = match raw.rooms {
            None => None,
            Some(rooms) => {
                let mut out = BTreeMap::new();
                for (room, names) in rooms {
                    let mut r = Rights::default();
                    for right in &names {
                        match right.as_str() {
                            "read" => r.read = true,
                            "write" => r.write = true,
                            "edit" => r.edit = true,
                            "moderate" => r.moderate = true,
                            other => {
                                return Err(bad(&format!("unknown right {other:?} for {room}")))
                            }
                        }
                    }
                    // Writing, editing and moderating all need reading.
                    r.read |= r.write || r.edit || r.moderate;
                    out.insert(room, r);
                }
                Some(out)
            }
        };
        Ok(AppClaims {
            user,
            name,
            exp: raw.exp,
            rooms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn sign(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn claims_rights_and_refusals() {
        let keys = AppKeys::secret("app-secret").unwrap();
        let jwt = sign(
            json!({"sub": "42", "name": " Ada ", "exp": now() + 60,
                   "rooms": {"team": ["write"], "*": ["read"]}}),
            "app-secret",
        );
        let c = keys.verify(&jwt).unwrap();
        assert_eq!(c.user, "app:42");
        assert_eq!(c.name.as_deref(), Some("Ada"));
        let team = c.rights("team").unwrap();
        assert!(team.read && team.write && !team.edit && !team.moderate);
        assert!(c.rights("other").unwrap().read);
        assert!(!c.rights("other").unwrap().write);
        // Without `rooms`: no restriction.
        let open = sign(json!({"sub": "7", "exp": now() + 60}), "app-secret");
        assert_eq!(keys.verify(&open).unwrap().rights("any"), None);
        // Wrong key, expired, unknown right, bad name: refused.
        let wrong = sign(json!({"sub": "42", "exp": now() + 60}), "other");
        let expired = sign(json!({"sub": "42", "exp": now() - 5}), "app-secret");
        let unknown = sign(
            json!({"sub": "42", "exp": now() + 60, "rooms": {"x": ["fly"]}}),
            "app-secret",
        );
        let bidi = sign(
            json!({"sub": "42", "exp": now() + 60, "name": "a\u{202e}b"}),
            "app-secret",
        );
        for jwt in [wrong, expired, unknown, bidi, "junk".to_owned()] {
            assert!(keys.verify(&jwt).is_err(), "{jwt}");
        }
        assert!(AppKeys::secret("").is_err());
    }
}
