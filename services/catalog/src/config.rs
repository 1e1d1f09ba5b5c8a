//! The catalog's configuration: the shared variables ([`BaseConfig`]) and its own.

use platform::config::{self, ConfigError, DsnUrl};
use platform::service::BaseConfig;
use serde::Deserialize;

#[derive(Deserialize)]
struct Raw {
    database_read_url: Option<DsnUrl>,
    #[serde(default = "default_cache_ttl")]
    catalog_cache_ttl: u64,
    #[serde(default = "default_reservation_ttl")]
    inventory_reservation_ttl: u64,
}

fn default_cache_ttl() -> u64 {
    3600
}
fn default_reservation_ttl() -> u64 {
    15
}

/// Everything the catalog reads from its environment.
#[derive(Debug, Clone)]
pub struct CatalogConfig {
    /// The variables every service shares.
    pub base: BaseConfig,
    /// `DATABASE_READ_URL`: replica for listings (primary when unset).
    pub database_read_url: Option<DsnUrl>,
    /// `CATALOG_CACHE_TTL` seconds (0 turns the cache off).
    pub cache_ttl_secs: u64,
    /// `INVENTORY_RESERVATION_TTL` minutes.
    pub reservation_ttl_minutes: u64,
}

/// The catalog's PostgreSQL schema.
pub const SCHEMA: &str = "catalog";

impl CatalogConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the given variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let base = BaseConfig::from_vars(&crate::app::INFO, vars.clone())?;
        let raw: Raw = config::from_iter(vars)?;
        if raw.inventory_reservation_ttl == 0 {
            return Err(ConfigError::invalid("INVENTORY_RESERVATION_TTL", "must be at least 1 minute"));
        }
        Ok(Self {
            base,
            database_read_url: raw.database_read_url.filter(|u| !u.expose().is_empty()),
            cache_ttl_secs: raw.catalog_cache_ttl,
            reservation_ttl_minutes: raw.inventory_reservation_ttl,
        })
    }
}
