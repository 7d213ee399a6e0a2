//! Against DNS rebinding: every request must name a host that cannot be an attacker's name
//! pointed at this server. A page on `evil.example` whose name an attacker re-points at
//! 127.0.0.1 (or a LAN address) is same-origin with itself, so its browser would read the
//! page, open `/ws` and `/yjs` with `Origin` and `Host` both `evil.example`, and read and post
//! in the rooms of a Tandem on the victim's machine. Only names that cannot be re-pointed are
//! answered:
//!
//! - IP literals (`127.0.0.1:8080`, `[::1]:8080`, a LAN address): no DNS involved, and
//!   `--listen` is always one, so the server's own address needs nothing more;
//! - `localhost` and names under `.localhost`, which browsers resolve to loopback themselves;
//! - the hosts of the `--allowed-origin` values (a public deployment names its own origin
//!   there, e.g. `--allowed-origin https://tandem.example.com`).
//!
//! Anything else gets 403 and a log line. `/healthz` is exempt: it says only "ok", and load
//! balancers and container health checks often call it by a name of their own.

use crate::ws::session::Shared;
use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web, Error, HttpResponse,
};
use std::net::IpAddr;

/// The host of `authority` (`host[:port]`, `[v6]` or `[v6]:port`) and whether it was in
/// brackets; None when it is not well formed.
fn split(authority: &str) -> Option<(&str, bool)> {
    let (host, port, bracketed) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':')?),
            };
            (host, port, true)
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port), false),
            None => (authority, None, false),
        },
    };
    if port.is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_err()) || host.is_empty() {
        return None;
    }
    Some((host, bracketed))
}

/// Lowercase, without the trailing dot of a fully qualified name.
fn normalize(host: &str) -> String {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.to_ascii_lowercase()
}

/// Whether `authority` (`host[:port]`, as in `Host`) may be answered: an IP literal,
/// `localhost` or a name under it, or the host of one of `allowed_origins`.
pub(crate) fn allowed(authority: &str, allowed_origins: &[String]) -> bool {
    let Some((host, bracketed)) = split(authority) else {
        return false;
    };
    if bracketed {
        return host.parse::<std::net::Ipv6Addr>().is_ok();
    }
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    let host = normalize(host);
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    allowed_origins.iter().any(|origin| {
        let authority = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
        split(authority.trim_end_matches('/')).is_some_and(|(h, _)| normalize(h) == host)
    })
}

/// The middleware: 403 for a request naming a host that is not [`allowed`] (in `Host`, or in
/// an absolute request target), before any route sees it.
pub(crate) async fn check(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.path() == "/healthz" {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let shared = req.app_data::<web::Data<Shared>>();
    let origins = shared.map_or(&[][..], |s| &s.config.allowed_origins[..]);
    let mut named = req
        .headers()
        .get_all(header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
        .chain(req.uri().authority().map(|a| a.as_str()));
    // Without any (an HTTP/1.0 client, not a browser) there is no name to rebind.
    let refused = named.find(|h| !allowed(h, origins));
    if let Some(host) = refused {
        tracing::warn!(
            host,
            path = req.path(),
            "refused a request for a host name that is not this server's (DNS rebinding?)"
        );
        let res = HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("host not allowed\n");
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn hosts_that_cannot_be_rebound() {
        let extra = vec!["https://tandem.example.com".to_owned()];
        for ok in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "192.168.1.20:80",
            "[::1]:8080",
            "[::1]",
            "[2001:db8::7]",
            "localhost",
            "LOCALHOST:3000",
            "dev.localhost:8080",
            "localhost.:8080",
            "tandem.example.com",
            "Tandem.Example.com:443",
            "tandem.example.com.",
        ] {
            assert!(allowed(ok, &extra), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "example.com",
            "chat.tandem.example.com",
            "[::1",
            "[evil.example]:80",
            "127.0.0.1:99999",
            "127.0.0.1:80x",
            "user@127.0.0.1",
            "",
            ":80",
            "\u{fffd}",
        ] {
            assert!(!allowed(bad, &extra), "{bad}");
        }
        assert!(!allowed("tandem.example.com", &[]));
    }
}
