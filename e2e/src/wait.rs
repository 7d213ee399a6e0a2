//! Waiting by polling, with a deadline and a message that says what was awaited and what
//! was last seen. No fixed sleeps stand in for a condition.

use std::{fmt::Debug, future::Future, time::Duration};
use tokio::time::Instant;

/// Generous: CI machines are small, and browsers reconnect with backoff.
pub const TIMEOUT: Duration = Duration::from_secs(45);

const POLL: Duration = Duration::from_millis(100);

/// Call `probe` until `done` accepts what it returns; fail after `timeout` with `what` and
/// the last value seen.
pub async fn until<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut probe: F,
    done: impl Fn(&T) -> bool,
) -> T
where
    T: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let value = probe().await;
        if done(&value) {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}; last seen: {value:#?}");
        }
        tokio::time::sleep(POLL).await;
    }
}
