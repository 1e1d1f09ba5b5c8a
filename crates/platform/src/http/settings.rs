//! Connection-level HTTP settings: time-outs, the listen backlog and the proxies whose
//! forwarded headers count.
//!
//! Read once by the runner (`HTTP_HEAD_TIMEOUT_MS`, `HTTP_BODY_TIMEOUT_MS`,
//! `HTTP_IDLE_TIMEOUT_MS`, `HTTP_LISTEN_BACKLOG`, `TRUSTED_PROXIES`) and applied by
//! [`super::build_server`] (the backlog by [`super::listener::listen`]).

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::config::ConfigError;

/// Longest accepted time-out (one hour): anything longer is a typo, not a setting.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// Largest accepted listen backlog (Linux caps it at `net.core.somaxconn` anyway).
const MAX_BACKLOG: u32 = 65_535;

/// How long a client may take over each part of a request, and whom to believe about the
/// client-facing scheme and host. Put in app data by [`super::build_server`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// From the first byte of a request head (or from accepting the connection) to its end;
    /// applies to every request on a keep-alive connection, not only the first. 408 JSON.
    pub head_timeout: Duration,
    /// From the end of the head to the last byte of the body. 408 JSON, connection closed.
    pub body_timeout: Duration,
    /// How long a keep-alive connection may sit idle between requests (closed silently).
    pub idle_timeout: Duration,
    /// Connections the kernel queues before the server accepts them (`HTTP_LISTEN_BACKLOG`).
    pub listen_backlog: u32,
    /// Peers whose `Forwarded` / `X-Forwarded-*` headers are believed.
    pub trusted_proxies: TrustedProxies,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(75),
            listen_backlog: super::listener::DEFAULT_LISTEN_BACKLOG,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

impl HttpSettings {
    /// Reads the five variables; absent or empty ones keep their defaults.
    pub fn from_vars(vars: &[(String, String)]) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            vars.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
        };
        let mut s = Self::default();
        if let Some(v) = get("HTTP_HEAD_TIMEOUT_MS") {
            s.head_timeout = millis("HTTP_HEAD_TIMEOUT_MS", v)?;
        }
        if let Some(v) = get("HTTP_BODY_TIMEOUT_MS") {
            s.body_timeout = millis("HTTP_BODY_TIMEOUT_MS", v)?;
        }
        if let Some(v) = get("HTTP_IDLE_TIMEOUT_MS") {
            s.idle_timeout = millis("HTTP_IDLE_TIMEOUT_MS", v)?;
        }
        if let Some(v) = get("HTTP_LISTEN_BACKLOG") {
            s.listen_backlog = v
                .parse()
                .ok()
                .filter(|n| (1..=MAX_BACKLOG).contains(n))
                .ok_or_else(|| ConfigError::invalid("HTTP_LISTEN_BACKLOG", "expected 1 to 65535"))?;
        }
        if let Some(v) = get("TRUSTED_PROXIES") {
            s.trusted_proxies = v.parse().map_err(|e: String| ConfigError::invalid("TRUSTED_PROXIES", e))?;
        }
        Ok(s)
    }
}

fn millis(name: &str, value: &str) -> Result<Duration, ConfigError> {
    let ms: u64 = value.parse().map_err(|_| ConfigError::invalid(name, "expected milliseconds"))?;
    let d = Duration::from_millis(ms);
    if d.is_zero() || d > MAX_TIMEOUT {
        return Err(ConfigError::invalid(name, "expected 1 to 3600000 milliseconds"));
    }
    Ok(d)
}

/// A list of networks (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// True when `ip` lies in one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer on a dual-stack socket shows up as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        self.0.iter().any(|c| c.contains(ip))
    }

    /// True when no proxy is trusted (the default: forwarded headers are ignored).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// One network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn contains(self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an IP address or network (e.g. 10.0.0.0/8)");
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(Self { addr, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(HttpSettings::from_vars(&[]).unwrap(), HttpSettings::default());
        let s = HttpSettings::from_vars(&vars(&[
            ("HTTP_HEAD_TIMEOUT_MS", "1500"),
            ("HTTP_BODY_TIMEOUT_MS", "2000"),
            ("HTTP_IDLE_TIMEOUT_MS", "3000"),
            ("HTTP_LISTEN_BACKLOG", "1024"),
            ("TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8,::1"),
        ]))
        .unwrap();
        assert_eq!(s.listen_backlog, 1024);
        assert_eq!(s.head_timeout, Duration::from_millis(1500));
        assert_eq!(s.body_timeout, Duration::from_secs(2));
        assert_eq!(s.idle_timeout, Duration::from_secs(3));
        assert!(s.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(s.trusted_proxies.contains("127.0.0.1".parse().unwrap()));
        assert!(s.trusted_proxies.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!(s.trusted_proxies.contains("::1".parse().unwrap()));
        assert!(!s.trusted_proxies.contains("127.0.0.2".parse().unwrap()));
        assert!(!s.trusted_proxies.contains("11.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("HTTP_HEAD_TIMEOUT_MS", "0"),
            ("HTTP_BODY_TIMEOUT_MS", "-1"),
            ("HTTP_IDLE_TIMEOUT_MS", "5s"),
            ("HTTP_LISTEN_BACKLOG", "0"),
            ("HTTP_LISTEN_BACKLOG", "100000"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TRUSTED_PROXIES", "proxy.local"),
        ] {
            let err = HttpSettings::from_vars(&vars(&[(k, v)])).unwrap_err();
            assert!(err.to_string().contains(k), "{err}");
        }
    }

    #[test]
    fn networks() {
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!(!all.contains("::1".parse().unwrap()));
        let net: Cidr = "192.168.1.0/24".parse().unwrap();
        assert!(net.contains("192.168.1.200".parse().unwrap()));
        assert!(!net.contains("192.168.2.1".parse().unwrap()));
    }
}
