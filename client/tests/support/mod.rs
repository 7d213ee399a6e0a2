//! Waiting in the browser: deadlines and sleeps on the page's own timers.

use futures::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use std::future::Future;

/// How long one expected event may take before the test fails.
pub const WAIT_MS: u32 = 10_000;

pub async fn sleep_ms(ms: u32) {
    TimeoutFuture::new(ms).await;
}

/// `fut`, or a panic naming `what` if it takes longer than `ms`.
pub async fn within<T>(what: &str, ms: u32, fut: impl Future<Output = T>) -> T {
    let fut = std::pin::pin!(fut);
    match select(fut, TimeoutFuture::new(ms)).await {
        Either::Left((value, _)) => value,
        Either::Right(_) => panic!("timed out after {ms} ms waiting for {what}"),
    }
}
