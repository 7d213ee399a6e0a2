//! Per-connection rate limiting: a token bucket plus a strike count for persistent floods.

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

/// A token bucket: `burst` messages at once, refilled at `per_sec`. `per_sec == 0` is off.
#[derive(Debug)]
pub(crate) struct RateLimit {
    burst: f64,
    per_sec: f64,
    tokens: f64,
    last: Instant,
    /// Messages refused since the last one allowed.
    strikes: u32,
    max_strikes: u32,
}

impl RateLimit {
    pub(crate) fn new(burst: u32, per_sec: u32, now: Instant) -> Self {
        RateLimit {
            burst: f64::from(burst.max(1)),
            per_sec: f64::from(per_sec),
            tokens: f64::from(burst.max(1)),
            last: now,
            strikes: 0,
            // A client that sends another full burst after the error is not slowing down.
            max_strikes: burst.max(1),
        }
    }

    pub(crate) fn check(&mut self, now: Instant) -> Verdict {
        if self.per_sec == 0.0 {
            return Verdict::Allow;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            return Verdict::Allow;
        }
        self.strikes += 1;
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
    }
}
