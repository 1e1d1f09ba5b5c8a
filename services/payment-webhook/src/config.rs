//! The webhook's configuration, read from the environment (ARCHITECTURE §5–§6).

use std::net::SocketAddr;
use std::time::Duration;

use platform::config::{self, AppEnv, ConfigError, DsnUrl, Secret, defaults};
use platform::telemetry::LogFormat;
use serde::Deserialize;

#[derive(Deserialize)]
struct Raw {
    app_env: Option<String>,
    http_addr: Option<String>,
    database_url: Option<DsnUrl>,
    amqp_url: Option<DsnUrl>,
    stripe_webhook_secret: Option<Secret>,
    log_format: Option<String>,
    #[serde(default = "default_tolerance")]
    stripe_webhook_tolerance_secs: u32,
    #[serde(default = "platform::config::defaults::db_pool_size")]
    db_pool_size: u32,
    #[serde(default = "platform::config::defaults::db_statement_timeout_ms")]
    db_statement_timeout_ms: u64,
    #[serde(default)]
    http_workers: usize,
    #[serde(default)]
    shutdown_drain_seconds: u64,
    #[serde(default = "platform::config::defaults::amqp_exchange")]
    amqp_exchange: String,
    #[serde(default = "default_relay_batch")]
    outbox_relay_batch: u32,
}

fn default_tolerance() -> u32 {
    300
}
fn default_relay_batch() -> u32 {
    200
}

/// Everything payment-webhook reads from its environment.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// development / test / production.
    pub app_env: AppEnv,
    /// `HTTP_ADDR`.
    pub http_addr: SocketAddr,
    /// `DATABASE_URL` (schema `payments`).
    pub database_url: DsnUrl,
    /// `AMQP_URL`.
    pub amqp_url: DsnUrl,
    /// `STRIPE_WEBHOOK_SECRET`: one or more endpoint secrets, comma-separated (rotation).
    pub webhook_secrets: Vec<Secret>,
    /// `STRIPE_WEBHOOK_TOLERANCE_SECS`: allowed age (and future skew) of a signature.
    pub tolerance_secs: i64,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `DB_POOL_SIZE`.
    pub db_pool_size: u32,
    /// `DB_STATEMENT_TIMEOUT_MS`.
    pub db_statement_timeout: Duration,
    /// `HTTP_WORKERS` (0 = one per core).
    pub http_workers: usize,
    /// `SHUTDOWN_DRAIN_SECONDS`.
    pub shutdown_drain_seconds: u64,
    /// `AMQP_EXCHANGE` (default `commerce.events`).
    pub amqp_exchange: String,
    /// `OUTBOX_RELAY_BATCH`: most events the relay publishes per transaction.
    pub relay_batch: u32,
}

/// The service's PostgreSQL schema.
pub const SCHEMA: &str = "payments";
const DEFAULT_ADDR: &str = "0.0.0.0:8084";
/// The endpoint secret outside production when none is set (the emulator's default too).
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dev";

impl WebhookConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the given variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let raw: Raw = config::from_iter(vars)?;
        let env: AppEnv = config::parse_var("APP_ENV", raw.app_env.as_deref())?.unwrap_or_default();
        let log_format: LogFormat =
            config::parse_var("LOG_FORMAT", raw.log_format.as_deref())?.unwrap_or_default();
        let http_addr = raw
            .http_addr
            .as_deref()
            .unwrap_or(DEFAULT_ADDR)
            .parse()
            .map_err(|_| ConfigError::invalid("HTTP_ADDR", "expected host:port, e.g. 0.0.0.0:8084"))?;
        // This service needs no Redis, so it resolves its two URLs itself (production requires both).
        let url = |v: Option<DsnUrl>, name: &str, default: &str| match v {
            Some(u) if !u.expose().trim().is_empty() => Ok(u),
            _ if env.is_production() => Err(ConfigError::Missing(name.to_owned())),
            _ => Ok(DsnUrl::new(default)),
        };
        let database_url = url(raw.database_url, "DATABASE_URL", defaults::DATABASE_URL)?;
        let amqp_url = url(raw.amqp_url, "AMQP_URL", defaults::AMQP_URL)?;
        let webhook_secrets = match raw.stripe_webhook_secret.as_ref().map(split_secrets) {
            Some(list) if !list.is_empty() => list,
            Some(_) | None if env.is_production() => {
                return Err(ConfigError::Missing("STRIPE_WEBHOOK_SECRET".to_owned()));
            }
            _ => vec![Secret::new(DEV_WEBHOOK_SECRET)],
        };
        if raw.stripe_webhook_tolerance_secs == 0 {
            return Err(ConfigError::invalid("STRIPE_WEBHOOK_TOLERANCE_SECS", "must be at least 1"));
        }
        if raw.db_statement_timeout_ms == 0 {
            return Err(ConfigError::invalid("DB_STATEMENT_TIMEOUT_MS", "must be at least 1"));
        }
        if raw.db_pool_size == 0 {
            return Err(ConfigError::invalid("DB_POOL_SIZE", "must be at least 1"));
        }
        Ok(Self {
            app_env: env,
            http_addr,
            database_url,
            amqp_url,
            webhook_secrets,
            tolerance_secs: i64::from(raw.stripe_webhook_tolerance_secs),
            log_format,
            db_pool_size: raw.db_pool_size,
            db_statement_timeout: Duration::from_millis(raw.db_statement_timeout_ms),
            http_workers: raw.http_workers,
            shutdown_drain_seconds: raw.shutdown_drain_seconds,
            amqp_exchange: raw.amqp_exchange,
            relay_batch: raw.outbox_relay_batch.max(1),
        })
    }
}

/// `whsec_a, whsec_b` → two secrets; blanks are dropped.
fn split_secrets(value: &Secret) -> Vec<Secret> {
    value.expose().split(',').map(str::trim).filter(|s| !s.is_empty()).map(Secret::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(list: &[(&str, &str)]) -> Result<WebhookConfig, ConfigError> {
        WebhookConfig::from_vars(list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn development_defaults() {
        let c = read(&[]).unwrap();
        assert_eq!(c.http_addr.to_string(), "0.0.0.0:8084");
        assert_eq!(c.tolerance_secs, 300);
        assert_eq!(c.webhook_secrets, vec![Secret::new(DEV_WEBHOOK_SECRET)]);
        assert_eq!(c.amqp_exchange, "commerce.events");
    }

    #[test]
    fn several_secrets_are_split_and_trimmed() {
        let c = read(&[
            ("STRIPE_WEBHOOK_SECRET", " whsec_new , whsec_old,,"),
            ("STRIPE_WEBHOOK_TOLERANCE_SECS", "60"),
        ])
        .unwrap();
        assert_eq!(c.webhook_secrets, vec![Secret::new("whsec_new"), Secret::new("whsec_old")]);
        assert_eq!(c.tolerance_secs, 60);
    }

    #[test]
    fn production_requires_urls_and_a_secret_and_nothing_leaks() {
        let prod =
            [("APP_ENV", "production"), ("DATABASE_URL", "postgres://db/x"), ("AMQP_URL", "amqp://mq")];
        assert_eq!(read(&prod).unwrap_err(), ConfigError::Missing("STRIPE_WEBHOOK_SECRET".into()));
        let mut blank = prod.to_vec();
        blank.push(("STRIPE_WEBHOOK_SECRET", " , "));
        assert_eq!(read(&blank).unwrap_err(), ConfigError::Missing("STRIPE_WEBHOOK_SECRET".into()));
        assert_eq!(
            read(&[("APP_ENV", "production"), ("STRIPE_WEBHOOK_SECRET", "whsec_x")]).unwrap_err(),
            ConfigError::Missing("DATABASE_URL".into())
        );
        let mut ok = prod.to_vec();
        ok.push(("STRIPE_WEBHOOK_SECRET", "whsec_super_secret"));
        let c = read(&ok).unwrap();
        assert!(!format!("{c:?}").contains("whsec_super_secret"));
    }

    #[test]
    fn bad_numbers_are_named() {
        let err = read(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", "soon")]).unwrap_err();
        assert!(err.to_string().contains("STRIPE_WEBHOOK_TOLERANCE_SECS"), "{err}");
        let err = read(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", "0")]).unwrap_err();
        assert!(err.to_string().contains("STRIPE_WEBHOOK_TOLERANCE_SECS"), "{err}");
    }
}
