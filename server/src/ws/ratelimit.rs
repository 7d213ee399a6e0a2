//! Per-connection rate limiting: a token bucket of messages (and optionally one of bytes) plus
//! a strike count for persistent floods. One design for every endpoint: `/ws` counts its
//! messages (text, binary and pings), `/yjs` its messages and their bytes, and a `/ws`
//! connection's joins have a bucket of their own.

use std::time::Instant;

/// What to do with one incoming message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    /// Drop it; `notify` is true for the first refusal of a run (send one error, not one
    /// per message).
    Refuse {
        notify: bool,
    },
    /// The client kept flooding after being told: close the connection.
    Close,
}

/// `burst` units at once, refilled at `per_sec`.
#[derive(Debug)]
struct Bucket {
    burst: f64,
    per_sec: f64,
    tokens: f64,
}

impl Bucket {
    fn new(burst: f64, per_sec: f64) -> Self {
        Bucket {
            burst,
            per_sec,
            tokens: burst,
        }
    }

    fn refill(&mut self, secs: f64) {
        self.tokens = (self.tokens + secs * self.per_sec).min(self.burst);
    }
}

/// A token bucket: `burst` messages at once, refilled at `per_sec`. `per_sec == 0` is off.
/// With [`RateLimit::with_bytes`] a message must also fit in a bucket of bytes.
#[derive(Debug)]
pub(crate) struct RateLimit {
    messages: Bucket,
    /// Bytes, when limited.
    bytes: Option<Bucket>,
    last: Instant,
    /// Messages refused since the last one allowed.
    strikes: u32,
    max_strikes: u32,
}

impl RateLimit {
    pub(crate) fn new(burst: u32, per_sec: u32, now: Instant) -> Self {
        RateLimit {
            messages: Bucket::new(f64::from(burst.max(1)), f64::from(per_sec)),
            bytes: None,
            last: now,
            strikes: 0,
            // A client that sends another full burst after the error is not slowing down.
            max_strikes: burst.max(1),
        }
    }

    /// Also limit the bytes: `burst` at once, refilled at `per_sec` (0: bytes unlimited). A
    /// message bigger than `burst` never fits, so `burst` must be at least the largest
    /// message the endpoint accepts (the configuration checks that).
    pub(crate) fn with_bytes(mut self, burst: usize, per_sec: usize) -> Self {
        self.bytes = (per_sec > 0).then(|| Bucket::new(burst as f64, per_sec as f64));
        self
    }

    /// One message (of no size, as far as a bytes bucket goes).
    pub(crate) fn check(&mut self, now: Instant) -> Verdict {
        self.check_sized(now, 0)
    }

    /// One message of `len` bytes.
    pub(crate) fn check_sized(&mut self, now: Instant, len: usize) -> Verdict {
        if self.messages.per_sec == 0.0 {
            return Verdict::Allow;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.messages.refill(elapsed);
        let len = len as f64;
        let bytes_ok = self.bytes.as_mut().is_none_or(|b| {
            b.refill(elapsed);
            b.tokens >= len
        });
        if self.messages.tokens >= 1.0 && bytes_ok {
            self.messages.tokens -= 1.0;
            if let Some(b) = self.bytes.as_mut() {
                b.tokens -= len;
            }
            self.strikes = 0;
            return Verdict::Allow;
        }
        self.strikes += 1;
        crate::metrics::METRICS.rate_limited.inc();
        if self.strikes >= self.max_strikes {
            Verdict::Close
        } else {
            Verdict::Refuse {
                notify: self.strikes == 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_sustained_rate() {
        let t0 = Instant::now();
        let mut rl = RateLimit::new(100, 20, t0);
        for _ in 0..100 {
            assert_eq!(rl.check(t0), Verdict::Allow);
        }
        assert_eq!(rl.check(t0), Verdict::Refuse { notify: true });
        assert_eq!(rl.check(t0), Verdict::Refuse { notify: false });
        // 50 ms later one token has been refilled (20/s).
        assert_eq!(rl.check(t0 + Duration::from_millis(50)), Verdict::Allow);
        // Sustained 20/s is fine indefinitely.
        for i in 2..200u64 {
            assert_eq!(
                rl.check(t0 + Duration::from_millis(50 * i)),
                Verdict::Allow,
                "{i}"
            );
        }
    }

    #[test]
    fn persistent_flood_closes() {
        let t0 = Instant::now();
        let mut rl = RateLimit::new(10, 1, t0);
        let verdicts: Vec<_> = (0..25).map(|_| rl.check(t0)).collect();
        assert_eq!(
            verdicts.iter().filter(|v| **v == Verdict::Allow).count(),
            10
        );
        assert!(verdicts.contains(&Verdict::Close));
    }

    #[test]
    fn zero_rate_is_off() {
        let t0 = Instant::now();
        let mut rl = RateLimit::new(1, 0, t0);
        assert!((0..10_000).all(|_| rl.check(t0) == Verdict::Allow));
        let mut rl = RateLimit::new(1, 0, t0).with_bytes(10, 10);
        assert!((0..100).all(|_| rl.check_sized(t0, 1_000) == Verdict::Allow));
    }

    #[test]
    fn bytes_limit_messages_that_fit_the_count() {
        let t0 = Instant::now();
        let mut rl = RateLimit::new(100, 100, t0).with_bytes(1_000, 500);
        // Ten messages of 100 bytes fill the byte bucket long before the count.
        for _ in 0..10 {
            assert_eq!(rl.check_sized(t0, 100), Verdict::Allow);
        }
        assert_eq!(rl.check_sized(t0, 100), Verdict::Refuse { notify: true });
        // A small one still fits nothing; 200 ms later 100 bytes have come back.
        assert_eq!(rl.check_sized(t0, 1), Verdict::Refuse { notify: false });
        let t1 = t0 + Duration::from_millis(200);
        assert_eq!(rl.check_sized(t1, 100), Verdict::Allow);
        assert_eq!(rl.check_sized(t1, 100), Verdict::Refuse { notify: true });
        // A whole burst's worth passes after a quiet spell.
        let t2 = t1 + Duration::from_secs(2);
        assert_eq!(rl.check_sized(t2, 1_000), Verdict::Allow);
        // Bytes per second 0: only the count is limited.
        let mut rl = RateLimit::new(2, 1, t0).with_bytes(1, 0);
        assert_eq!(rl.check_sized(t0, 1_000_000), Verdict::Allow);
        assert_eq!(rl.check_sized(t0, 1_000_000), Verdict::Allow);
        assert_eq!(rl.check_sized(t0, 0), Verdict::Refuse { notify: true });
    }
}
