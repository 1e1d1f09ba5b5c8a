//! The webhook's configuration, read from the environment (ARCHITECTURE §5–§6).

use std::time::Duration;

use platform::config::{ConfigError, ExposeSecret, SecretString};
use platform::service::{BaseConfig, Config, ServiceInfo, ServiceVars};
use serde::Deserialize;

use crate::webhook::batch::BatchOptions;

/// The variables as envy reads them.
#[derive(Deserialize)]
pub struct Raw {
    stripe_webhook_secret: Option<SecretString>,
    #[serde(default = "default_tolerance")]
    stripe_webhook_tolerance_secs: u32,
    #[serde(default = "default_relay_batch")]
    outbox_relay_batch: u32,
    #[serde(default = "default_batch_window_us")]
    webhook_batch_window_us: u64,
    #[serde(default = "default_batch_max")]
    webhook_batch_max: usize,
    webhook_batch_in_flight: Option<usize>,
}

fn default_tolerance() -> u32 {
    300
}
fn default_relay_batch() -> u32 {
    200
}
fn default_batch_window_us() -> u64 {
    duration_us(BatchOptions::default().window)
}
fn default_batch_max() -> usize {
    BatchOptions::default().max_items
}

/// Longest batch window accepted (anything longer is a typo, and would hold every request).
const MAX_BATCH_WINDOW_US: u64 = 1_000_000;

fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// payment-webhook's own settings.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `STRIPE_WEBHOOK_SECRET`: one or more endpoint secrets, comma-separated (rotation).
    pub webhook_secrets: Vec<SecretString>,
    /// `STRIPE_WEBHOOK_TOLERANCE_SECS`: allowed age (and future skew) of a signature.
    pub tolerance_secs: i64,
    /// `OUTBOX_RELAY_BATCH`: most events the relay publishes per transaction.
    pub relay_batch: u32,
    /// `WEBHOOK_BATCH_WINDOW_US`, `WEBHOOK_BATCH_MAX`, `WEBHOOK_BATCH_IN_FLIGHT`: the group commit
    /// of concurrent events (one statement per batch).
    pub batch: BatchOptions,
}

/// Everything payment-webhook reads from its environment.
pub type WebhookConfig = Config<WebhookSettings>;

/// The endpoint secret outside production when none is set (the emulator's default too).
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dev";

impl ServiceVars for WebhookSettings {
    type Raw = Raw;
    const INFO: &'static ServiceInfo = &crate::INFO;

    fn resolve(raw: Raw, base: &BaseConfig) -> Result<Self, ConfigError> {
        let webhook_secrets = match raw.stripe_webhook_secret.as_ref().map(split_secrets) {
            Some(list) if !list.is_empty() => list,
            Some(_) | None if base.app_env.is_production() => {
                return Err(ConfigError::Missing("STRIPE_WEBHOOK_SECRET".to_owned()));
            }
            _ => vec![SecretString::from(DEV_WEBHOOK_SECRET)],
        };
        if raw.stripe_webhook_tolerance_secs == 0 {
            return Err(ConfigError::invalid("STRIPE_WEBHOOK_TOLERANCE_SECS", "must be at least 1"));
        }
        if raw.webhook_batch_window_us > MAX_BATCH_WINDOW_US {
            return Err(ConfigError::invalid("WEBHOOK_BATCH_WINDOW_US", "must be 0 to 1000000 microseconds"));
        }
        if !(1..=10_000).contains(&raw.webhook_batch_max) {
            return Err(ConfigError::invalid("WEBHOOK_BATCH_MAX", "must be 1 to 10000 events"));
        }
        // Each batch in flight holds a pooled connection; more than the pool would only queue.
        let pool = usize::try_from(base.db_pool_size).unwrap_or(usize::MAX).max(1);
        let in_flight = raw.webhook_batch_in_flight.unwrap_or(BatchOptions::default().in_flight.min(pool));
        if in_flight == 0 || in_flight > pool {
            return Err(ConfigError::invalid("WEBHOOK_BATCH_IN_FLIGHT", "must be 1 to DB_POOL_SIZE"));
        }
        Ok(Self {
            webhook_secrets,
            tolerance_secs: i64::from(raw.stripe_webhook_tolerance_secs),
            relay_batch: raw.outbox_relay_batch.max(1),
            batch: BatchOptions {
                window: Duration::from_micros(raw.webhook_batch_window_us),
                max_items: raw.webhook_batch_max,
                in_flight,
            },
        })
    }
}

/// `whsec_a, whsec_b` → two secrets; blanks are dropped.
fn split_secrets(value: &SecretString) -> Vec<SecretString> {
    value
        .expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(SecretString::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposed(secrets: &[SecretString]) -> Vec<&str> {
        secrets.iter().map(ExposeSecret::expose_secret).collect()
    }

    fn read(list: &[(&str, &str)]) -> Result<WebhookConfig, ConfigError> {
        WebhookConfig::from_vars(list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn development_defaults() {
        let c = read(&[]).unwrap();
        assert_eq!(c.base.http_addr.to_string(), "0.0.0.0:8084");
        assert_eq!(c.tolerance_secs, 300);
        assert_eq!(exposed(&c.webhook_secrets), vec![DEV_WEBHOOK_SECRET]);
        assert_eq!(c.base.amqp_exchange, "commerce.events");
        assert_eq!(c.batch, BatchOptions::default());
    }

    #[test]
    fn batch_settings_are_read_and_bounded() {
        let c = read(&[
            ("WEBHOOK_BATCH_WINDOW_US", "1000"),
            ("WEBHOOK_BATCH_MAX", "128"),
            ("WEBHOOK_BATCH_IN_FLIGHT", "2"),
        ])
        .unwrap();
        assert_eq!(c.batch, BatchOptions { window: Duration::from_millis(1), max_items: 128, in_flight: 2 });
        // Unset, the number in flight stays within a small pool.
        let c = read(&[("DB_POOL_SIZE", "3")]).unwrap();
        assert_eq!(c.batch.in_flight, 3);
        for (name, value) in [
            ("WEBHOOK_BATCH_WINDOW_US", "1000001"),
            ("WEBHOOK_BATCH_MAX", "0"),
            ("WEBHOOK_BATCH_IN_FLIGHT", "0"),
            ("WEBHOOK_BATCH_IN_FLIGHT", "17"),
        ] {
            let err = read(&[(name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{name}={value}: {err}");
        }
    }

    #[test]
    fn several_secrets_are_split_and_trimmed() {
        let c = read(&[
            ("STRIPE_WEBHOOK_SECRET", " whsec_new , whsec_old,,"),
            ("STRIPE_WEBHOOK_TOLERANCE_SECS", "60"),
        ])
        .unwrap();
        assert_eq!(exposed(&c.webhook_secrets), vec!["whsec_new", "whsec_old"]);
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
