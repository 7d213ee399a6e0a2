//! WebSocket connections per client address, capped (`--max-conns-per-addr`): a handshake
//! beyond the cap is refused with 429. A [`PeerGuard`] counts one connection for as long as
//! it lives (its session holds it), so every way a session ends gives the place back.
//!
//! The address is the TCP peer's, or, with `--trust-forwarded-for` only, the one the proxy in
//! front reports: the last entry of `X-Forwarded-For` (a proxy appends the address it saw;
//! entries before it are whatever the client sent, so they are not trusted). IPv6 addresses
//! count per /64, the block one host is usually given, so a client cannot step around the
//! cap by changing the address within its own network.

use actix_web::HttpRequest;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

/// Open connections per client address (or IPv6 /64).
#[derive(Debug, Default)]
pub(crate) struct Peers {
    /// A std-style lock held only to bump a counter, never across an await.
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct PeerGuard {
    peers: Arc<Peers>,
    key: IpAddr,
}

impl Drop for PeerGuard {
    fn drop(&mut self) {
        let mut counts = self.peers.counts.lock();
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// What the cap counts: an IPv4 address (an IPv4-mapped IPv6 one too), or an IPv6 /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Peers {
    /// Count one more connection from `ip`, unless it already has `max` (0: no cap).
    pub(crate) fn acquire(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerGuard> {
        let key = key(ip);
        let mut counts = self.counts.lock();
        let n = counts.entry(key).or_insert(0);
        if max != 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerGuard {
            peers: self.clone(),
            key,
        })
    }

    /// Connections counted for `ip` now (for tests).
    #[cfg(test)]
    fn count(&self, ip: IpAddr) -> usize {
        self.counts.lock().get(&key(ip)).copied().unwrap_or(0)
    }
}

/// The client's address: the TCP peer's, or with `trust_forwarded_for` the last address in
/// `X-Forwarded-For` (the TCP peer's when there is none that parses).
pub(crate) fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    if !trust_forwarded_for {
        return peer;
    }
    let last = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .last();
    last.and_then(parse_forwarded).or(peer)
}

/// An address as proxies write it: `1.2.3.4`, `2001:db8::1`, `1.2.3.4:5678`, `[2001:db8::1]:5678`.
fn parse_forwarded(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_cap_counts_live_guards() {
        let peers = Arc::new(Peers::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let g1 = peers.acquire(a, 2).unwrap();
        let g2 = peers.acquire(a, 2).unwrap();
        assert!(peers.acquire(a, 2).is_none());
        assert!(
            peers.acquire(b, 2).is_some(),
            "another address has its own count"
        );
        drop(g1);
        let g3 = peers.acquire(a, 2).unwrap();
        drop((g2, g3));
        assert_eq!(peers.count(a), 0);
        assert!(peers.counts.lock().is_empty(), "no entry left behind");
        assert!((0..100).all(|_| peers.acquire(a, 0).map(std::mem::forget).is_some()));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let peers = Arc::new(Peers::default());
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let _g = peers.acquire(one, 1).unwrap();
        assert!(peers.acquire(other, 1).is_none(), "same /64");
        assert!(peers
            .acquire("2001:db8:1:3::1".parse().unwrap(), 1)
            .is_some());
        let _v4 = peers.acquire("192.0.2.7".parse().unwrap(), 1).unwrap();
        assert!(peers
            .acquire("::ffff:192.0.2.7".parse().unwrap(), 1)
            .is_none());
    }

    #[test]
    fn forwarded_for_only_when_trusted_and_only_its_last_entry() {
        let peer: std::net::SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.9"))
            .to_http_request();
        assert_eq!(client_ip(&req, false), Some(peer.ip()));
        assert_eq!(client_ip(&req, true), "203.0.113.9".parse().ok());
        for (header, want) in [
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("198.51.100.1:80", "198.51.100.1"),
            ("garbage", "127.0.0.1"),
            ("1.1.1.1,", "1.1.1.1"),
        ] {
            let req = TestRequest::default()
                .peer_addr(peer)
                .insert_header(("x-forwarded-for", header))
                .to_http_request();
            assert_eq!(client_ip(&req, true), want.parse().ok(), "{header}");
        }
        let req = TestRequest::default().peer_addr(peer).to_http_request();
        assert_eq!(client_ip(&req, true), Some(peer.ip()));
    }
}
