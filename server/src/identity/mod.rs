//! Who a connection is: a public user id, proven by a secret credential the server issued.
//!
//! Every new connection gets a fresh identity in `welcome` (`user_id` + `token`). A browser
//! keeps its token and sends it in `hello` on every (re)connection to be that user again.
//! The token is a JWT (HS256) the server signs with its own key (`secret.key` in the data
//! directory, created on first start, or `--secret-file`), so any node holding the same key
//! can check it without shared session state. It names the user (`sub`) and expires
//! (`exp`); a forged, tampered or expired token is refused, never mapped to someone else.
//! The public `user_id` others see proves nothing.

pub mod app;

pub use app::{AppClaims, AppKeys, BadJwt};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::{io::Write, path::Path, time::Duration};

/// The issuer and audience of identity tokens (app JWTs use their own).
const ISSUER: &str = "tandem";
const AUDIENCE: &str = "tandem-identity";
/// Bytes of a freshly created key.
const KEY_LEN: usize = 32;
/// A token older than this is replaced by a fresh one in the `hello` reply.
const REFRESH_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("secret file {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("secret file {0} holds fewer than {KEY_LEN} bytes")]
    TooShort(std::path::PathBuf),
}

/// Why a token was refused (logged; the client only learns `bad_token`).
#[derive(Debug, thiserror::Error)]
#[error("bad token: {0}")]
pub struct BadToken(#[from] jsonwebtoken::errors::Error);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: u64,
    exp: u64,
}

/// A token checked: whose it is, and whether it should be replaced by a fresher one.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub user: String,
    pub stale: bool,
}

/// Issues and checks identity tokens with the server's key.
pub struct Identities {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities")
            .field("ttl", &self.ttl)
            .finish()
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Read the key at `path`, creating it (readable by its owner only) if it does not exist.
pub fn load_or_create_key(path: &Path) -> Result<Vec<u8>, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::read(path) {
        Ok(key) if key.len() >= KEY_LEN => return Ok(key),
        Ok(_) => return Err(KeyError::TooShort(path.to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut key = vec![0u8; KEY_LEN];
    rand::rngs::OsRng.fill_bytes(&mut key);
    // Written whole under a name of its own, then linked into place, which fails if another
    // process (a node starting beside this one) got there first: nobody ever reads a key
    // half written.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(&key)?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created the server's secret key");
            Ok(key)
        }
        // Another process created it meanwhile: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_key(path),
        Err(e) => Err(io(e)),
    }
}

impl Identities {
    /// With the key `secret` (not empty: [`load_or_create_key`] gives at least 32 bytes);
    /// tokens live for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Identities {
        assert!(!secret.is_empty(), "identity key must not be empty");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Identities {
            // unwrap: from_secret refuses only an empty key, checked above.
            encoding: EncodingKey::from_secret(secret).expect("non-empty key"),
            decoding: DecodingKey::from_secret(secret).expect("non-empty key"),
            validation,
            ttl,
        }
    }

    /// A fresh public user id and the token that proves it.
    pub fn fresh(&self) -> (String, String) {
        let user = format!("u{:016x}", rand::random::<u64>());
        let token = self.issue(&user);
        (user, token)
    }

    /// A token for `user`, valid for the configured lifetime from now.
    pub fn issue(&self, user: &str) -> String {
        let iat = now_secs();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user.into(),
            iat,
            exp: iat + self.ttl.as_secs(),
        };
        // unwrap: HS256 over a struct of strings and integers cannot fail to encode.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("identity tokens encode")
    }

    /// Whose token this is, if the server issued it and it has not expired.
    pub fn verify(&self, token: &str) -> Result<Verified, BadToken> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        let claims = data.claims;
        if tandem_shared::ids::user_id(&claims.sub).is_err() {
            return Err(BadToken(
                jsonwebtoken::errors::ErrorKind::InvalidSubject.into(),
            ));
        }
        let age = now_secs().saturating_sub(claims.iat);
        Ok(Verified {
            user: claims.sub,
            stale: age >= REFRESH_AFTER.as_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn a_token_proves_its_user_and_nothing_else() {
        let ids = Identities::new(&[7; 32], DAY);
        let (user, token) = ids.fresh();
        assert_eq!(
            ids.verify(&token).unwrap(),
            Verified {
                user: user.clone(),
                stale: false
            }
        );
        let (other, _) = ids.fresh();
        assert_ne!(user, other);
        // Another server's key, a tampered payload, garbage: refused.
        assert!(Identities::new(&[8; 32], DAY).verify(&token).is_err());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(ids.verify(&parts.join(".")).is_err());
        assert!(ids.verify("not a token").is_err());
        assert!(ids.verify("").is_err());
    }

    #[test]
    fn expired_tokens_and_app_tokens_are_refused() {
        let expired = Identities::new(&[7; 32], Duration::ZERO);
        let (_, token) = expired.fresh();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(expired.verify(&token).is_err());
        // A JWT signed with the same key but not an identity token (no audience).
        #[derive(Serialize)]
        struct App {
            sub: String,
            exp: u64,
        }
        let app = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &App {
                sub: "u1".into(),
                exp: now_secs() + 60,
            },
            &EncodingKey::from_secret(&[7; 32]).unwrap(),
        )
        .unwrap();
        assert!(Identities::new(&[7; 32], DAY).verify(&app).is_err());
    }

    #[test]
    fn the_key_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret.key");
        let first = load_or_create_key(&path).unwrap();
        assert_eq!(first.len(), KEY_LEN);
        assert_eq!(load_or_create_key(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            load_or_create_key(&path),
            Err(KeyError::TooShort(_))
        ));
    }
}
