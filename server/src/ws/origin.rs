//! Which `Origin`s may open a WebSocket (against cross-site WebSocket hijacking).

/// The host part of an origin or `Host` value, without scheme, port or brackets.
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// Allowed: no `Origin` (not a browser), an origin in `extra`, a localhost origin, or the
/// server's own origin: its authority equals the request's `Host` and that host is one that
/// cannot be a DNS rebinding (`crate::hostcheck::allowed`: an IP literal, localhost, or a host
/// of `extra`). A matching `Host` alone proves nothing: a rebound `evil.example` page sends
/// `Origin` and `Host` both `evil.example`.
pub(crate) fn allowed(origin: Option<&str>, host: Option<&str>, extra: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    if extra
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false; // "null" and other opaque origins
    };
    if !matches!(scheme, "http" | "https") || authority.contains('/') {
        return false;
    }
    let origin_host = host_of(authority).to_ascii_lowercase();
    if matches!(origin_host.as_str(), "localhost" | "127.0.0.1" | "::1") {
        return true;
    }
    host.is_some_and(|h| h.eq_ignore_ascii_case(authority) && crate::hostcheck::allowed(h, extra))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn origins() {
        let extra = vec!["https://chat.example.com".to_owned()];
        assert!(allowed(None, Some("x:1"), &[]));
        assert!(allowed(
            Some("http://localhost:8080"),
            Some("10.0.0.1:80"),
            &[]
        ));
        assert!(allowed(Some("http://127.0.0.1:3000"), None, &[]));
        assert!(allowed(Some("http://[::1]:3000"), None, &[]));
        // The own origin: on an IP (a LAN address), or on a host of `extra` (here behind a
        // proxy that terminates TLS, so the scheme differs).
        assert!(allowed(
            Some("http://192.168.1.5:8080"),
            Some("192.168.1.5:8080"),
            &[]
        ));
        let own = vec!["https://tandem.example:8443".to_owned()];
        assert!(allowed(
            Some("http://tandem.example:8443"),
            Some("tandem.example:8443"),
            &own
        ));
        // DNS rebinding: Origin and Host agree, but the name is not this server's.
        assert!(!allowed(
            Some("http://evil.example:8080"),
            Some("evil.example:8080"),
            &extra
        ));
        assert!(allowed(
            Some("https://chat.example.com"),
            Some("other"),
            &extra
        ));
        assert!(!allowed(
            Some("https://evil.example"),
            Some("tandem.example"),
            &extra
        ));
        assert!(!allowed(Some("http://localhost.evil.example"), None, &[]));
        assert!(!allowed(Some("null"), Some("tandem.example"), &[]));
        assert!(!allowed(
            Some("https://tandem.example:9999"),
            Some("tandem.example:8443"),
            &[]
        ));
    }
}
