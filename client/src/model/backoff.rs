//! The reconnection schedule: exponential backoff with full jitter, reset once a connection
//! has stayed up long enough. Pure: the caller passes the random number and the durations it
//! measured, so the schedule is tested deterministically on the host.
//!
//! Full jitter (`delay = random(0, min(cap, base · 2^attempt))`) spreads the reconnects of
//! many clients that lost the same server at the same moment, instead of having them return
//! in synchronized waves.

use std::time::Duration;

/// When to try again after a connection attempt failed or a connection dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first delay.
    pub base: Duration,
    /// No delay is ever longer than this.
    pub cap: Duration,
    /// A connection that stayed live this long counts as healthy: the schedule restarts.
    pub stable: Duration,
    /// Failures since the last healthy connection.
    attempt: u32,
}

impl Default for Backoff {
    /// 500 ms base, 30 s cap, reset after 10 s live.
    fn default() -> Self {
        Backoff::new(
            Duration::from_millis(500),
            Duration::from_secs(30),
            Duration::from_secs(10),
        )
    }
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration, stable: Duration) -> Self {
        Backoff {
            base,
            cap,
            stable,
            attempt: 0,
        }
    }

    /// Failures counted since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The largest delay the next failure may draw: `min(cap, base · 2^attempt)`.
    pub fn ceiling(&self) -> Duration {
        // 2^20 · base is far beyond any sensible cap; stop doubling there (no overflow).
        let factor = 1u32 << self.attempt.min(20);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A connection ended (or an attempt failed) after having been live for `live_for`
    /// (`None` if it never opened). Returns how long to wait before the next attempt;
    /// `random` is uniform in `[0, 1)` (values outside are clamped).
    pub fn next_delay(&mut self, live_for: Option<Duration>, random: f64) -> Duration {
        if live_for.is_some_and(|d| d >= self.stable) {
            self.reset();
        }
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        ceiling.mul_f64(random.clamp(0.0, 1.0))
    }

    /// Start over, as after a healthy connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn ceilings_double_from_base_up_to_the_cap() {
        let mut b = Backoff::default();
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            ceilings.push(b.ceiling().as_millis());
            // random = 1.0 draws the ceiling itself.
            assert_eq!(
                b.next_delay(None, 1.0),
                MS(*ceilings.last().unwrap() as u64)
            );
        }
        assert_eq!(
            ceilings,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]
        );
        assert_eq!(b.attempt(), 10);
    }

    #[test]
    fn delays_stay_within_zero_and_the_ceiling() {
        let mut b = Backoff::default();
        for attempt in 0..40u32 {
            let ceiling = b.ceiling();
            let r = f64::from(attempt % 7) / 7.0;
            let d = b.next_delay(None, r);
            assert!(d <= ceiling && d <= b.cap, "attempt {attempt}: {d:?}");
            assert_eq!(d, ceiling.mul_f64(r));
        }
        // Out-of-range randoms are clamped; zero is a valid (immediate) delay.
        let mut b = Backoff::default();
        assert_eq!(b.next_delay(None, -3.0), Duration::ZERO);
        assert_eq!(b.next_delay(None, 7.0), MS(1000));
        // Many attempts never overflow.
        let mut b = Backoff::default();
        for _ in 0..1000 {
            b.next_delay(None, 0.5);
        }
        assert_eq!(b.ceiling(), b.cap);
    }

    #[test]
    fn full_jitter_spreads_over_the_whole_range() {
        let mut b = Backoff::default();
        for _ in 0..3 {
            b.next_delay(None, 0.0);
        }
        let ceiling = b.ceiling();
        assert_eq!(ceiling, MS(4000));
        let low = b.clone().next_delay(None, 0.0);
        let mid = b.clone().next_delay(None, 0.5);
        let high = b.clone().next_delay(None, 0.999);
        assert_eq!(low, Duration::ZERO);
        assert_eq!(mid, MS(2000));
        assert!(high > MS(3990) && high < ceiling);
    }

    #[test]
    fn a_stable_connection_resets_the_schedule() {
        let mut b = Backoff::default();
        for _ in 0..5 {
            b.next_delay(None, 1.0);
        }
        assert_eq!(b.ceiling(), MS(16000));
        // Live for less than `stable`: still growing.
        assert_eq!(b.next_delay(Some(MS(9_999)), 1.0), MS(16000));
        assert_eq!(b.attempt(), 6);
        // Live for `stable` or more: back to the base.
        assert_eq!(b.next_delay(Some(MS(10_000)), 1.0), MS(500));
        assert_eq!(b.attempt(), 1);
        b.reset();
        assert_eq!(b.attempt(), 0);
        assert_eq!(b.ceiling(), b.base);
    }
}
