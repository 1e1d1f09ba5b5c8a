//! The cart's configuration: the runner's `BaseConfig` (shared variables, including
//! `ECOMMERCE_CURRENCY`, new carts' currency) and the cart's own:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `CATALOG_URL` | catalog's base URL (internal API) | `http://127.0.0.1:8081`; required with `APP_ENV=production` |
//! | `CATALOG_TIMEOUT_MS` | time-out of one catalog call | `2000` |
//! | `INVENTORY_RESERVE_ON_ADD` | reserve stock as lines are added | `true` |
//! | `INVENTORY_RESERVATION_TTL` | minutes a line's reservation lives unless refreshed | `15` |
//! | `INVENTORY_GUEST_RESERVATION_TTL` | the same for a guest's cart (at most the above) | `10` |
//! | `CART_MAX_UNITS_PER_PRODUCT` | units of one product one cart may hold, over all its lines | `99` |
//! | `CART_GUEST_TTL_SECONDS` | a guest cart's life after its last change | `604800` (7 days) |
//! | `CART_CACHE_TTL_SECONDS` | how long a customer's cart stays in Redis | `86400` |
//! | `CART_PRICE_CACHE_SECONDS` | how long a catalog price is reused (0: never) | `3` |

use std::time::Duration;

use platform::config::{self, AppEnv, ConfigError};
use platform::service::{BaseConfig, Config, ServiceInfo, ServiceVars};
use serde::Deserialize;

/// The variables as envy reads them.
#[derive(Deserialize)]
pub struct Raw {
    catalog_url: Option<String>,
    #[serde(default = "default_catalog_timeout_ms")]
    catalog_timeout_ms: u64,
    inventory_reserve_on_add: Option<String>,
    #[serde(default = "default_reservation_ttl")]
    inventory_reservation_ttl: u64,
    #[serde(default = "default_guest_reservation_ttl")]
    inventory_guest_reservation_ttl: u64,
    #[serde(default = "default_max_units")]
    cart_max_units_per_product: u64,
    #[serde(default = "default_guest_ttl")]
    cart_guest_ttl_seconds: u64,
    #[serde(default = "default_cache_ttl")]
    cart_cache_ttl_seconds: u64,
    #[serde(default = "default_price_cache")]
    cart_price_cache_seconds: u64,
}

/// Where catalog is when `CATALOG_URL` is not set, outside production.
const DEV_CATALOG_URL: &str = "http://127.0.0.1:8081";
fn default_catalog_timeout_ms() -> u64 {
    2000
}
fn default_reservation_ttl() -> u64 {
    15
}
fn default_guest_reservation_ttl() -> u64 {
    10
}
fn default_max_units() -> u64 {
    99
}
fn default_guest_ttl() -> u64 {
    7 * 24 * 3600
}
fn default_cache_ttl() -> u64 {
    24 * 3600
}
fn default_price_cache() -> u64 {
    3
}

/// Everything the cart reads from its environment (its own settings through `Deref`).
pub type CartConfig = Config<CartSettings>;

impl ServiceVars for CartSettings {
    type Raw = Raw;
    const INFO: &'static ServiceInfo = &crate::INFO;

    fn resolve(raw: Raw, base: &BaseConfig) -> Result<Self, ConfigError> {
        Self::from_raw(&raw, base.app_env)
    }
}

/// What the cart reads besides the shared variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartSettings {
    /// `CATALOG_URL`.
    pub catalog_url: String,
    /// `CATALOG_TIMEOUT_MS`.
    pub catalog_timeout: Duration,
    /// `INVENTORY_RESERVE_ON_ADD`.
    pub reserve_on_add: bool,
    /// `INVENTORY_RESERVATION_TTL` (minutes, 1 to 1440).
    pub reservation_ttl_minutes: i64,
    /// `INVENTORY_GUEST_RESERVATION_TTL` (minutes, 1 to 1440; a guest cart's hold is the
    /// shorter of the two).
    pub guest_reservation_ttl_minutes: i64,
    /// `CART_MAX_UNITS_PER_PRODUCT` (1 to 9999).
    pub max_units_per_product: i32,
    /// `CART_GUEST_TTL_SECONDS`.
    pub guest_ttl: Duration,
    /// `CART_CACHE_TTL_SECONDS`.
    pub cache_ttl: Duration,
    /// `CART_PRICE_CACHE_SECONDS`.
    pub price_cache: Duration,
}

fn parse_bool(name: &str, value: Option<&str>, default: bool) -> Result<bool, ConfigError> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) => match v.as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::invalid(name, "expected true or false")),
        },
    }
}

impl CartSettings {
    /// Reads the cart's own variables from `vars` as in `env` (tests; the service reads
    /// [`CartConfig`]).
    pub fn from_vars(
        env: AppEnv,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::from_raw(&config::from_iter(vars)?, env)
    }

    fn from_raw(raw: &Raw, env: AppEnv) -> Result<Self, ConfigError> {
        // Production never guesses where catalog is: a missing URL is a start-up error.
        let catalog_url = match raw.catalog_url.as_deref() {
            Some(url) => url.trim().trim_end_matches('/').to_owned(),
            None if env.is_production() => return Err(ConfigError::Missing("CATALOG_URL".to_owned())),
            None => DEV_CATALOG_URL.to_owned(),
        };
        if !(catalog_url.starts_with("http://") || catalog_url.starts_with("https://")) {
            return Err(ConfigError::invalid("CATALOG_URL", "expected an http:// or https:// URL"));
        }
        if !(1..=60_000).contains(&raw.catalog_timeout_ms) {
            return Err(ConfigError::invalid("CATALOG_TIMEOUT_MS", "expected 1 to 60000"));
        }
        if !(1..=1440).contains(&raw.inventory_reservation_ttl) {
            return Err(ConfigError::invalid("INVENTORY_RESERVATION_TTL", "expected 1 to 1440 minutes"));
        }
        if !(1..=1440).contains(&raw.inventory_guest_reservation_ttl) {
            return Err(ConfigError::invalid(
                "INVENTORY_GUEST_RESERVATION_TTL",
                "expected 1 to 1440 minutes",
            ));
        }
        if !(1..=9999).contains(&raw.cart_max_units_per_product) {
            return Err(ConfigError::invalid("CART_MAX_UNITS_PER_PRODUCT", "expected 1 to 9999"));
        }
        if raw.cart_guest_ttl_seconds == 0 {
            return Err(ConfigError::invalid("CART_GUEST_TTL_SECONDS", "must be positive"));
        }
        if raw.cart_cache_ttl_seconds == 0 {
            return Err(ConfigError::invalid("CART_CACHE_TTL_SECONDS", "must be positive"));
        }
        Ok(Self {
            catalog_url,
            catalog_timeout: Duration::from_millis(raw.catalog_timeout_ms),
            reserve_on_add: parse_bool(
                "INVENTORY_RESERVE_ON_ADD",
                raw.inventory_reserve_on_add.as_deref(),
                true,
            )?,
            reservation_ttl_minutes: i64::try_from(raw.inventory_reservation_ttl).unwrap_or(15),
            guest_reservation_ttl_minutes: i64::try_from(raw.inventory_guest_reservation_ttl).unwrap_or(10),
            max_units_per_product: i32::try_from(raw.cart_max_units_per_product).unwrap_or(99),
            guest_ttl: Duration::from_secs(raw.cart_guest_ttl_seconds),
            cache_ttl: Duration::from_secs(raw.cart_cache_ttl_seconds),
            price_cache: Duration::from_secs(raw.cart_price_cache_seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<CartSettings, ConfigError> {
        CartSettings::from_vars(AppEnv::Test, vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn production_needs_the_catalog_url() {
        let vars = |list: &[(&str, &str)]| {
            list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>()
        };
        let err = CartSettings::from_vars(AppEnv::Production, vars(&[])).unwrap_err();
        assert!(err.to_string().contains("CATALOG_URL"), "{err}");
        let ok =
            CartSettings::from_vars(AppEnv::Production, vars(&[("CATALOG_URL", "http://catalog:8081/")]))
                .unwrap();
        assert_eq!(ok.catalog_url, "http://catalog:8081");
    }

    #[test]
    fn defaults() {
        let s = read(&[]).unwrap();
        assert_eq!(s.catalog_url, "http://127.0.0.1:8081");
        assert!(s.reserve_on_add);
        assert_eq!(s.reservation_ttl_minutes, 15);
        assert_eq!(s.guest_ttl, Duration::from_secs(604_800));
        let c = CartConfig::from_vars(Vec::new()).unwrap();
        assert_eq!(c.base.http_addr.to_string(), "0.0.0.0:8082");
        assert_eq!(c.base.redis_key_prefix, "cart:");
    }

    #[test]
    fn bad_values_are_named() {
        for (name, value) in [
            ("CATALOG_URL", "catalog:8081"),
            ("CATALOG_TIMEOUT_MS", "0"),
            ("INVENTORY_RESERVE_ON_ADD", "maybe"),
            ("INVENTORY_RESERVATION_TTL", "0"),
            ("CART_GUEST_TTL_SECONDS", "soon"),
        ] {
            let err = read(&[(name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        assert!(!read(&[("INVENTORY_RESERVE_ON_ADD", "false")]).unwrap().reserve_on_add);
    }
}
