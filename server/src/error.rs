//! The server's top-level error: what can stop `run` from starting or finishing.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("identity key: {0}")]
    Key(#[from] crate::identity::KeyError),
    #[error("cluster: {0}")]
    Redis(#[from] crate::broker::redis::RedisError),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}
