//! The limits of a `/ws` connection, checked where its messages arrive: every message (text,
//! binary, ping) counts against the connection's rate limit, and each `join` against the
//! rooms it may hold at once (`--max-rooms-per-conn`) and the joins it may make per second
//! (`--joins-per-sec`). Refusals are `error`s and the connection stays open; only a flood
//! that goes on after being told is closed (1008).

use super::frames::reason;
use super::handlers::{error, Conn, Flow};
use super::ratelimit::{RateLimit, Verdict};
use super::session::Shared;
use crate::{ws::codec, Config};
use actix_ws::CloseCode;
use std::collections::HashSet;
use std::time::Instant;
use tandem_shared::{ids::Invalid, ids::RoomName, ErrorCode};

/// Count one incoming message against the connection's rate limit: `Ok` to handle it, or
/// what to do instead (`Flow::Continue`: it is dropped, the first of a run with a
/// `rate_limited` error; `Flow::Close`: 1008 for a flood that persists).
pub(super) fn admit(shared: &Shared, conn: &mut Conn) -> Result<(), Flow> {
    match conn.limit.check(Instant::now()) {
        Verdict::Allow => Ok(()),
        Verdict::Refuse { notify } => {
            if notify {
                let msg = format!(
                    "too many messages: at most {} at once and {} per second; this one was dropped",
                    shared.config.rate_burst, shared.config.rate_per_sec
                );
                let err = error(ErrorCode::RateLimited, msg, None);
                conn.outbox.deliver(codec::encode(&err));
            }
            Err(Flow::Continue)
        }
        Verdict::Close => {
            tracing::info!(conn = conn.id, "closing flooding client");
            Err(Flow::Close(reason(
                CloseCode::Policy,
                "rate limit exceeded",
            )))
        }
    }
}

/// What a connection may join: at most `max_rooms` rooms at once, and joins (re-joins too)
/// at `per_sec` with a burst of `max_rooms`, so a page that reconnects can rejoin every
/// room it had at once.
pub(super) struct Joins {
    rate: RateLimit,
    max_rooms: usize,
    per_sec: u32,
}

impl Joins {
    pub(super) fn new(config: &Config, now: Instant) -> Self {
        let burst = u32::try_from(config.max_rooms_per_conn).unwrap_or(u32::MAX);
        Joins {
            rate: RateLimit::new(burst, config.joins_per_sec, now),
            max_rooms: config.max_rooms_per_conn,
            per_sec: config.joins_per_sec,
        }
    }

    /// May the connection, in `joined` now, join `room`? The error says why not (the
    /// connection stays open; nothing else changes).
    pub(super) fn admit(
        &mut self,
        joined: &HashSet<RoomName>,
        room: &RoomName,
        now: Instant,
    ) -> Result<(), Invalid> {
        if !joined.contains(room) && joined.len() >= self.max_rooms {
            return Err(Invalid {
                code: ErrorCode::TooManyRooms,
                message: format!(
                    "a connection can be in at most {} rooms at once: leave one to join {room}",
                    self.max_rooms
                ),
            });
        }
        match self.rate.check(now) {
            Verdict::Allow => Ok(()),
            Verdict::Refuse { .. } | Verdict::Close => Err(Invalid {
                code: ErrorCode::RateLimited,
                message: format!(
                    "too many joins: at most {} at once and {} per second; join {room} again in a moment",
                    self.max_rooms, self.per_sec
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn joins(max_rooms: usize, joins_per_sec: u32) -> Joins {
        let config = Config {
            max_rooms_per_conn: max_rooms,
            joins_per_sec,
            ..Config::defaults()
        };
        Joins::new(&config, Instant::now())
    }

    fn room(s: &str) -> RoomName {
        RoomName::new(s).unwrap()
    }

    #[test]
    fn rooms_cap_counts_distinct_rooms() {
        let mut j = joins(2, 0);
        let now = Instant::now();
        let mut joined = HashSet::new();
        for r in ["a", "b"] {
            j.admit(&joined, &room(r), now).unwrap();
            joined.insert(room(r));
        }
        let err = j.admit(&joined, &room("c"), now).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooManyRooms);
        assert!(err.message.contains("at most 2"), "{}", err.message);
        // Re-joining a room it is in is fine.
        j.admit(&joined, &room("a"), now).unwrap();
        joined.remove(&room("b"));
        j.admit(&joined, &room("c"), now).unwrap();
    }

    #[test]
    fn joins_per_second_with_a_burst_of_the_rooms_cap() {
        let mut j = joins(3, 2);
        let t0 = Instant::now();
        let joined = HashSet::new();
        for _ in 0..3 {
            j.admit(&joined, &room("a"), t0).unwrap();
        }
        let err = j.admit(&joined, &room("a"), t0).unwrap_err();
        assert_eq!(err.code, ErrorCode::RateLimited);
        // Refused every time (each join is answered), not closed.
        for _ in 0..10 {
            assert!(j.admit(&joined, &room("a"), t0).is_err());
        }
        j.admit(&joined, &room("a"), t0 + Duration::from_millis(500))
            .unwrap();
    }
}
