//! The emulator's configuration, from the environment like the services' (ARCHITECTURE §6).

use std::time::Duration;

use platform::config::{self, ConfigError, ExposeSecret, SecretString};
use platform::telemetry::LogFormat;
use serde::Deserialize;

use crate::emulator::EmulatorConfig;
use crate::webhooks::RetryPolicy;

/// First webhook attempts in flight at once per endpoint when serving (`WEBHOOK_CONCURRENCY`).
pub const SERVE_CONCURRENCY: usize = 32;

/// Default listen address: the port stripe-mock uses, so tools that know it find us.
pub const DEFAULT_ADDR: &str = "0.0.0.0:12111";

#[derive(Deserialize)]
struct Raw {
    http_addr: Option<String>,
    log_format: Option<String>,
    stripe_webhook_url: Option<String>,
    stripe_webhook_secret: Option<SecretString>,
    webhook_retry_base_ms: Option<String>,
    webhook_retry_max_ms: Option<String>,
    webhook_max_attempts: Option<String>,
    webhook_timeout_ms: Option<String>,
    webhook_concurrency: Option<String>,
}

/// Everything `stripe-emulator serve` needs.
pub struct ServeConfig {
    /// `HTTP_ADDR`.
    pub http_addr: String,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// Endpoints and retry policy.
    pub emulator: EmulatorConfig,
}

impl ServeConfig {
    /// Reads `HTTP_ADDR`, `LOG_FORMAT`, `STRIPE_WEBHOOK_URL` (comma-separated URLs),
    /// `STRIPE_WEBHOOK_SECRET` (the first of a comma-separated list signs), and
    /// `WEBHOOK_RETRY_BASE_MS`, `WEBHOOK_RETRY_MAX_MS`, `WEBHOOK_MAX_ATTEMPTS`, `WEBHOOK_TIMEOUT_MS`,
    /// `WEBHOOK_CONCURRENCY`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_raw(config::from_env::<Raw>()?)
    }

    /// The same from explicit `(NAME, value)` pairs (tests).
    pub fn from_vars<I: IntoIterator<Item = (String, String)>>(vars: I) -> Result<Self, ConfigError> {
        Self::from_raw(config::from_iter::<Raw, _>(vars)?)
    }

    fn from_raw(raw: Raw) -> Result<Self, ConfigError> {
        let defaults = RetryPolicy::default();
        let ms = |name: &str, v: Option<&str>, default: Duration| -> Result<Duration, ConfigError> {
            Ok(config::parse_var::<u64>(name, v)?.map_or(default, Duration::from_millis))
        };
        let retry = RetryPolicy {
            base_delay: ms(
                "WEBHOOK_RETRY_BASE_MS",
                raw.webhook_retry_base_ms.as_deref(),
                defaults.base_delay,
            )?,
            max_delay: ms("WEBHOOK_RETRY_MAX_MS", raw.webhook_retry_max_ms.as_deref(), defaults.max_delay)?,
            max_attempts: config::parse_var::<u32>(
                "WEBHOOK_MAX_ATTEMPTS",
                raw.webhook_max_attempts.as_deref(),
            )?
            .unwrap_or(defaults.max_attempts)
            .max(1),
            timeout: ms("WEBHOOK_TIMEOUT_MS", raw.webhook_timeout_ms.as_deref(), defaults.timeout)?,
            // Stripe delivers concurrently: one slow or queued payment must not hold up the rest.
            concurrency: config::parse_var::<usize>(
                "WEBHOOK_CONCURRENCY",
                raw.webhook_concurrency.as_deref(),
            )?
            .unwrap_or(SERVE_CONCURRENCY)
            .clamp(1, 1024),
        };
        let urls: Vec<String> = raw
            .stripe_webhook_url
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        let secret = raw.stripe_webhook_secret.as_ref().and_then(|s| {
            s.expose_secret().split(',').map(str::trim).find(|s| !s.is_empty()).map(str::to_owned)
        });
        if !urls.is_empty() && secret.is_none() {
            return Err(ConfigError::invalid(
                "STRIPE_WEBHOOK_SECRET",
                "required when STRIPE_WEBHOOK_URL is set (the secret the receiving service verifies with)",
            ));
        }
        if let Some(bad) = urls.iter().find(|u| !(u.starts_with("http://") || u.starts_with("https://"))) {
            return Err(ConfigError::invalid("STRIPE_WEBHOOK_URL", format!("not an http(s) URL: {bad}")));
        }
        let webhook_endpoints = urls.into_iter().map(|u| (u, secret.clone().unwrap_or_default())).collect();
        Ok(Self {
            http_addr: raw
                .http_addr
                .filter(|a| !a.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_ADDR.to_owned()),
            log_format: config::parse_var("LOG_FORMAT", raw.log_format.as_deref())?.unwrap_or_default(),
            emulator: EmulatorConfig { webhook_endpoints, retry },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults() {
        let c = ServeConfig::from_vars(vars(&[])).unwrap();
        assert_eq!(c.http_addr, DEFAULT_ADDR);
        assert!(c.emulator.webhook_endpoints.is_empty());
        assert_eq!(
            c.emulator.retry,
            RetryPolicy { concurrency: SERVE_CONCURRENCY, ..RetryPolicy::default() }
        );
        let one = ServeConfig::from_vars(vars(&[("WEBHOOK_CONCURRENCY", "1")])).unwrap();
        assert_eq!(one.emulator.retry.concurrency, 1);
    }

    #[test]
    fn endpoints_retry_and_the_first_secret_signs() {
        let c = ServeConfig::from_vars(vars(&[
            ("HTTP_ADDR", "127.0.0.1:9999"),
            ("STRIPE_WEBHOOK_URL", "http://127.0.0.1:8084/webhooks/stripe, http://127.0.0.1:9/x"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_new,whsec_old"),
            ("WEBHOOK_RETRY_BASE_MS", "5"),
            ("WEBHOOK_MAX_ATTEMPTS", "3"),
        ]))
        .unwrap();
        assert_eq!(c.http_addr, "127.0.0.1:9999");
        assert_eq!(c.emulator.webhook_endpoints.len(), 2);
        assert_eq!(c.emulator.webhook_endpoints[0].1, "whsec_new");
        assert_eq!(c.emulator.retry.base_delay, Duration::from_millis(5));
        assert_eq!(c.emulator.retry.max_attempts, 3);
    }

    #[test]
    fn refuses_an_unsigned_endpoint_and_bad_numbers() {
        let e = ServeConfig::from_vars(vars(&[("STRIPE_WEBHOOK_URL", "http://x/y")])).err().unwrap();
        assert!(e.to_string().contains("STRIPE_WEBHOOK_SECRET"));
        let e = ServeConfig::from_vars(vars(&[("WEBHOOK_MAX_ATTEMPTS", "many")])).err().unwrap();
        assert!(e.to_string().contains("WEBHOOK_MAX_ATTEMPTS"));
        let e = ServeConfig::from_vars(vars(&[
            ("STRIPE_WEBHOOK_URL", "ftp://x"),
            ("STRIPE_WEBHOOK_SECRET", "s"),
        ]))
        .err()
        .unwrap();
        assert!(e.to_string().contains("STRIPE_WEBHOOK_URL"));
    }
}
