//! The client-facing origin (`scheme://host`) of a request, for links in response bodies.
//!
//! `Forwarded` (RFC 7239) and `X-Forwarded-Proto` / `X-Forwarded-Host` are believed only when
//! the peer is one of [`HttpSettings::trusted_proxies`], and only their last value (the one
//! that peer wrote; earlier ones came from further away, possibly from the client). Values
//! must be `http`/`https` and a host name or address with an optional port; anything else is
//! ignored. Without a trusted proxy the origin comes from the connection and `Host` (which is
//! validated the same way). Bodies built from it must send [`VARY`].

use std::net::Ipv6Addr;

use actix_web::HttpRequest;
use actix_web::http::header;

use super::settings::HttpSettings;

/// The `Vary` value for responses whose body contains [`public_origin`].
pub const VARY: &str = "Host, Forwarded, X-Forwarded-Proto, X-Forwarded-Host";

/// `scheme://host[:port]` as the client saw it.
pub fn public_origin(req: &HttpRequest) -> String {
    let trusted = req
        .app_data::<HttpSettings>()
        .is_some_and(|s| req.peer_addr().is_some_and(|peer| s.trusted_proxies.contains(peer.ip())));
    let (mut scheme, mut host) = (None, None);
    if trusted {
        if let Some(element) = last_value(req, header::FORWARDED.as_str()) {
            for pair in element.split(';') {
                let Some((key, value)) = pair.split_once('=') else { continue };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "proto" => scheme = scheme.or_else(|| valid_scheme(value)),
                    "host" => host = host.or_else(|| valid_host(value).then(|| value.to_owned())),
                    _ => {}
                }
            }
        }
        scheme = scheme.or_else(|| last_value(req, "x-forwarded-proto").and_then(valid_scheme));
        host = host
            .or_else(|| last_value(req, "x-forwarded-host").filter(|h| valid_host(h)).map(ToOwned::to_owned));
    }
    let scheme = scheme.unwrap_or(if req.app_config().secure() { "https" } else { "http" });
    let host = host
        .or_else(|| {
            let own = req.headers().get(header::HOST).and_then(|v| v.to_str().ok())?;
            valid_host(own).then(|| own.to_owned())
        })
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{scheme}://{host}")
}

/// The last comma-separated value of the last `name` header, trimmed.
fn last_value<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    let value = req.headers().get_all(name).last()?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    (!last.is_empty()).then_some(last)
}

fn valid_scheme(s: &str) -> Option<&'static str> {
    if s.eq_ignore_ascii_case("https") {
        Some("https")
    } else if s.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

/// A DNS name, an IPv4 address or a bracketed IPv6 address, with an optional port.
pub fn valid_host(h: &str) -> bool {
    let (name, port) = if let Some(rest) = h.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else { return false };
        if v6.parse::<Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match h.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (h, None),
        }
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    let name_ok = h.starts_with('[')
        || (!name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    port_ok && name_ok
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn settings(proxies: &str) -> HttpSettings {
        HttpSettings { trusted_proxies: proxies.parse().unwrap(), ..HttpSettings::default() }
    }

    #[test]
    fn hosts() {
        for ok in ["shop.example.com", "shop.example.com:8443", "10.0.0.1", "[::1]", "[::1]:80", "localhost"]
        {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "a b",
            "evil.com/x",
            "x:0",
            "x:99999",
            "-a.com",
            "a..b",
            "[zz]",
            "[::1]x",
            "a.com:",
            "user@host",
            "h\u{0}",
            "é.com",
        ] {
            assert!(!valid_host(bad), "{bad}");
        }
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_peers() {
        let req = |proxies: &str, peer: &str| {
            TestRequest::default()
                .peer_addr(peer.parse().unwrap())
                .insert_header(("host", "internal:8080"))
                .insert_header(("x-forwarded-proto", "https"))
                .insert_header(("x-forwarded-host", "shop.example.com"))
                .app_data(settings(proxies))
                .to_http_request()
        };
        assert_eq!(public_origin(&req("10.0.0.0/8", "10.1.1.1:5000")), "https://shop.example.com");
        assert_eq!(public_origin(&req("10.0.0.0/8", "192.168.1.1:5000")), "http://internal:8080");
        assert_eq!(public_origin(&req("", "10.1.1.1:5000")), "http://internal:8080");
    }

    #[test]
    fn invalid_values_are_ignored_and_the_last_value_counts() {
        let base = || {
            TestRequest::default()
                .peer_addr("127.0.0.1:1".parse().unwrap())
                .insert_header(("host", "internal"))
                .app_data(settings("127.0.0.1"))
        };
        let r = base()
            .insert_header(("x-forwarded-proto", "javascript:alert(1)//"))
            .insert_header(("x-forwarded-host", "evil.com/<x>"))
            .to_http_request();
        assert_eq!(public_origin(&r), "http://internal");
        let r = base().insert_header(("x-forwarded-proto", "javascript, https")).to_http_request();
        assert_eq!(public_origin(&r), "https://internal");
        let r = base()
            .insert_header(("forwarded", r#"for=1.2.3.4;proto=https;host="shop.example.com:443""#))
            .to_http_request();
        assert_eq!(public_origin(&r), "https://shop.example.com:443");
        let r = base().insert_header(("forwarded", "proto=ftp;host=a b")).to_http_request();
        assert_eq!(public_origin(&r), "http://internal");
    }
}
