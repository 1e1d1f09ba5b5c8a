//! The webhook's configuration, read from the environment (ARCHITECTURE §5–§6).

use platform::config::{ConfigError, ExposeSecret, SecretString};
use platform::service::{BaseConfig, Config, ServiceInfo, ServiceVars};
use serde::Deserialize;

/// The variables as envy reads them.
#[derive(Deserialize)]
pub struct Raw {
    stripe_webhook_secret: Option<SecretString>,
    #[serde(default = "default_tolerance")]
    stripe_webhook_tolerance_secs: u32,
    #[serde(default = "default_relay_batch")]
    outbox_relay_batch: u32,
}

fn default_tolerance() -> u32 {
    300
}
fn default_relay_batch() -> u32 {
    200
}

/// payment-webhook's own settings.
#[derive(Debug, Clone)]
pub struct WebhookVars {
    /// `STRIPE_WEBHOOK_SECRET`: one or more endpoint secrets, comma-separated (rotation).
    pub webhook_secrets: Vec<SecretString>,
    /// `STRIPE_WEBHOOK_TOLERANCE_SECS`: allowed age (and future skew) of a signature.
    pub tolerance_secs: i64,
    /// `OUTBOX_RELAY_BATCH`: most events the relay publishes per transaction.
    pub relay_batch: u32,
}

/// Everything payment-webhook reads from its environment.
pub type WebhookConfig = Config<WebhookVars>;

/// The service's PostgreSQL schema.
pub const SCHEMA: &str = "payments";
/// The endpoint secret outside production when none is set (the emulator's default too).
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dev";

impl ServiceVars for WebhookVars {
    type Raw = Raw;
    const INFO: &'static ServiceInfo = &crate::app::INFO;

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
        Ok(Self {
            webhook_secrets,
            tolerance_secs: i64::from(raw.stripe_webhook_tolerance_secs),
            relay_batch: raw.outbox_relay_batch.max(1),
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
