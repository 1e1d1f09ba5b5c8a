//! The order service's configuration: the shared variables (`platform::service::BaseConfig`)
//! and its own.

use std::time::Duration;

use platform::config::{self, AppEnv, ConfigError, ExposeSecret, SecretString};
use platform::service::{BaseConfig, Config, ServiceInfo, ServiceVars};
use serde::Deserialize;

use crate::checkout::pricing::PricingRules;

/// The variables as envy reads them.
#[derive(Deserialize)]
pub struct Raw {
    cart_url: Option<String>,
    catalog_url: Option<String>,
    stripe_secret_key: Option<SecretString>,
    stripe_api_base: Option<String>,
    #[serde(default = "default_session_minutes")]
    checkout_session_timeout: u64,
    #[serde(default)]
    tax_rate_bps: u32,
    #[serde(default)]
    shipping_flat_cents: i64,
    #[serde(default)]
    free_shipping_threshold_cents: i64,
    #[serde(default)]
    discount_bps: u32,
    #[serde(default)]
    discount_min_subtotal_cents: i64,
    smtp_url: Option<SecretString>,
    mail_from: Option<String>,
    #[serde(default = "default_sweep_seconds")]
    order_sweep_interval_seconds: u64,
    #[serde(default = "default_reconcile_seconds")]
    order_reconcile_after_seconds: u64,
}

const fn default_session_minutes() -> u64 {
    30
}
const fn default_sweep_seconds() -> u64 {
    15
}
const fn default_reconcile_seconds() -> u64 {
    300
}

/// Everything `order` reads from its environment (its own settings through `Deref`).
pub type OrderConfig = Config<OrderSettings>;

impl ServiceVars for OrderSettings {
    type Raw = Raw;
    const INFO: &'static ServiceInfo = &crate::INFO;

    fn resolve(raw: Raw, base: &BaseConfig) -> Result<Self, ConfigError> {
        Self::from_raw(raw, base.app_env)
    }
}

/// Where Stripe is when `STRIPE_API_BASE` is not set: the emulator outside production.
pub const DEV_STRIPE_API_BASE: &str = "http://127.0.0.1:12111/";
/// Stripe itself.
pub const LIVE_STRIPE_API_BASE: &str = "https://api.stripe.com/";
/// The key used outside production when none is set (the emulator accepts any `sk_test_`).
pub const DEV_STRIPE_KEY: &str = "sk_test_dev";

/// What the order service reads besides the shared variables.
#[derive(Debug, Clone)]
pub struct OrderSettings {
    /// `CART_URL`.
    pub cart_url: String,
    /// `CATALOG_URL`.
    pub catalog_url: String,
    /// `STRIPE_SECRET_KEY`.
    pub stripe_secret_key: SecretString,
    /// `STRIPE_API_BASE`, always with a trailing `/`.
    pub stripe_api_base: String,
    /// `CHECKOUT_SESSION_TIMEOUT` (minutes): how long an unpaid checkout holds its stock.
    pub checkout_session_timeout: Duration,
    /// Tax, shipping and discount rules.
    pub pricing: PricingRules,
    /// `SMTP_URL` (the worker), e.g. `smtp://127.0.0.1:1025`.
    pub smtp_url: SecretString,
    /// `MAIL_FROM`.
    pub mail_from: String,
    /// `ORDER_SWEEP_INTERVAL_SECONDS`: how often the sweeper looks.
    pub sweep_interval: Duration,
    /// `ORDER_RECONCILE_AFTER_SECONDS`: a payment `processing` this long is asked of Stripe.
    pub reconcile_after: Duration,
}

impl OrderSettings {
    /// Reads the order variables from `vars` (tests; the service reads [`OrderConfig`]); `env`
    /// decides which defaults are allowed.
    pub fn from_vars(
        env: AppEnv,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::from_raw(config::from_iter(vars)?, env)
    }

    fn from_raw(raw: Raw, env: AppEnv) -> Result<Self, ConfigError> {
        let url = |v: Option<String>, name: &str, default: &str| -> Result<String, ConfigError> {
            match v.map(|s| s.trim().trim_end_matches('/').to_owned()) {
                Some(s) if s.starts_with("http://") || s.starts_with("https://") => Ok(s),
                Some(s) if !s.is_empty() => Err(ConfigError::invalid(name, "expected an http(s) URL")),
                _ if env.is_production() => Err(ConfigError::Missing(name.to_owned())),
                _ => Ok(default.to_owned()),
            }
        };
        let cart_url = url(raw.cart_url, "CART_URL", "http://127.0.0.1:8082")?;
        let catalog_url = url(raw.catalog_url, "CATALOG_URL", "http://127.0.0.1:8081")?;
        let stripe_secret_key = match raw.stripe_secret_key {
            Some(k) if !k.expose_secret().trim().is_empty() => k,
            _ if env.is_production() => return Err(ConfigError::Missing("STRIPE_SECRET_KEY".to_owned())),
            _ => SecretString::from(DEV_STRIPE_KEY),
        };
        let stripe_api_base = match raw.stripe_api_base.map(|s| s.trim().to_owned()) {
            Some(s) if s.starts_with("http://") || s.starts_with("https://") => {
                format!("{}/", s.trim_end_matches('/'))
            }
            Some(s) if !s.is_empty() => {
                return Err(ConfigError::invalid("STRIPE_API_BASE", "expected an http(s) URL"));
            }
            _ if env.is_production() => LIVE_STRIPE_API_BASE.to_owned(),
            _ => DEV_STRIPE_API_BASE.to_owned(),
        };
        if !(1..=1440).contains(&raw.checkout_session_timeout) {
            return Err(ConfigError::invalid("CHECKOUT_SESSION_TIMEOUT", "must be 1 to 1440 minutes"));
        }
        if raw.tax_rate_bps > 10_000 {
            return Err(ConfigError::invalid("TAX_RATE_BPS", "must be 0 to 10000 (basis points)"));
        }
        if raw.discount_bps > 10_000 {
            return Err(ConfigError::invalid("DISCOUNT_BPS", "must be 0 to 10000 (basis points)"));
        }
        for (name, v) in [
            ("SHIPPING_FLAT_CENTS", raw.shipping_flat_cents),
            ("FREE_SHIPPING_THRESHOLD_CENTS", raw.free_shipping_threshold_cents),
            ("DISCOUNT_MIN_SUBTOTAL_CENTS", raw.discount_min_subtotal_cents),
        ] {
            if v < 0 {
                return Err(ConfigError::invalid(name, "must not be negative"));
            }
        }
        if raw.order_sweep_interval_seconds == 0 {
            return Err(ConfigError::invalid("ORDER_SWEEP_INTERVAL_SECONDS", "must be at least 1"));
        }
        let smtp_url = match raw.smtp_url {
            Some(u) if !u.expose_secret().trim().is_empty() => u,
            _ => SecretString::from("smtp://127.0.0.1:1025"),
        };
        Ok(Self {
            cart_url,
            catalog_url,
            stripe_secret_key,
            stripe_api_base,
            checkout_session_timeout: Duration::from_secs(raw.checkout_session_timeout * 60),
            pricing: PricingRules {
                tax_rate_bps: raw.tax_rate_bps,
                shipping_flat_cents: raw.shipping_flat_cents,
                free_shipping_threshold_cents: raw.free_shipping_threshold_cents,
                discount_bps: raw.discount_bps,
                discount_min_subtotal_cents: raw.discount_min_subtotal_cents,
            },
            smtp_url,
            mail_from: raw
                .mail_from
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "shop@localhost".to_owned()),
            sweep_interval: Duration::from_secs(raw.order_sweep_interval_seconds),
            reconcile_after: Duration::from_secs(raw.order_reconcile_after_seconds),
        })
    }

    /// Reads a number of minutes of the checkout session as whole minutes (for catalog's TTLs).
    pub fn session_minutes(&self) -> i64 {
        i64::try_from(self.checkout_session_timeout.as_secs() / 60).unwrap_or(1440).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(env: AppEnv, list: &[(&str, &str)]) -> Result<OrderSettings, ConfigError> {
        OrderSettings::from_vars(env, list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn development_defaults() {
        let s = read(AppEnv::default(), &[]).unwrap();
        assert_eq!(s.stripe_api_base, DEV_STRIPE_API_BASE);
        assert_eq!(s.session_minutes(), 30);
        assert_eq!(s.cart_url, "http://127.0.0.1:8082");
        let s =
            read(AppEnv::default(), &[("STRIPE_API_BASE", "http://x:1"), ("CHECKOUT_SESSION_TIMEOUT", "5")])
                .unwrap();
        assert_eq!(s.stripe_api_base, "http://x:1/");
        assert_eq!(s.session_minutes(), 5);
    }

    #[test]
    fn the_whole_config_has_the_shared_variables_too() {
        let c = OrderConfig::from_vars(Vec::new()).unwrap();
        assert_eq!(c.base.http_addr.to_string(), "0.0.0.0:8083");
        assert_eq!(c.cart_url, "http://127.0.0.1:8082");
    }

    #[test]
    fn production_requires_the_key_and_urls() {
        let err =
            read(AppEnv::Production, &[("CART_URL", "http://c"), ("CATALOG_URL", "http://k")]).unwrap_err();
        assert_eq!(err, ConfigError::Missing("STRIPE_SECRET_KEY".into()));
        let ok = read(
            AppEnv::Production,
            &[("CART_URL", "http://c"), ("CATALOG_URL", "http://k"), ("STRIPE_SECRET_KEY", "sk_live_x")],
        )
        .unwrap();
        assert_eq!(ok.stripe_api_base, LIVE_STRIPE_API_BASE);
        assert!(!format!("{ok:?}").contains("sk_live_x"));
    }

    #[test]
    fn bad_values_are_named() {
        for (k, v) in
            [("TAX_RATE_BPS", "10001"), ("CHECKOUT_SESSION_TIMEOUT", "0"), ("SHIPPING_FLAT_CENTS", "-1")]
        {
            let err = read(AppEnv::default(), &[(k, v)]).unwrap_err();
            assert!(err.to_string().contains(k), "{err}");
        }
    }
}
