//! Private real servers for tests: a [`Postgres`] cluster and a [`Redis`], each on a free
//! loopback port with its files in its own temp dir, started and stopped by PID, never the
//! machine's system service. Faults are real: [`Postgres::stop`], [`Redis::kill`]; and a
//! Tandem [`Node`] process on them, for `kill -9`.
//!
//! Blocking and dependency-light (std and `tempfile`): tests call it from plain threads or
//! before they start a runtime.

mod node;
mod postgres;
mod proc;
mod redis;

pub use node::Node;
pub use postgres::Postgres;
pub use redis::Redis;

#[cfg(test)]
mod tests;
