//! The catalog's own settings; the shared ones are [`platform::service::BaseConfig`].

use platform::config::{ConfigError, DsnUrl};
use platform::service::{BaseConfig, Config, ServiceInfo, ServiceVars};
use serde::Deserialize;

/// The variables as envy reads them.
#[derive(Deserialize)]
pub struct Raw {
    database_read_url: Option<DsnUrl>,
    #[serde(default = "default_cache_ttl")]
    catalog_cache_ttl: u64,
    #[serde(default = "default_reservation_ttl")]
    inventory_reservation_ttl: u64,
    #[serde(default = "default_count_cap")]
    catalog_count_cap: i64,
}

fn default_cache_ttl() -> u64 {
    3600
}
fn default_reservation_ttl() -> u64 {
    15
}
fn default_count_cap() -> i64 {
    crate::listing::total::DEFAULT_CAP
}

/// The catalog's own settings.
#[derive(Debug, Clone)]
pub struct CatalogSettings {
    /// `DATABASE_READ_URL`: replica for listings (primary when unset).
    pub database_read_url: Option<DsnUrl>,
    /// `CATALOG_CACHE_TTL` seconds (0 turns the cache off).
    pub cache_ttl_secs: u64,
    /// `INVENTORY_RESERVATION_TTL` minutes.
    pub reservation_ttl_minutes: u64,
    /// `CATALOG_COUNT_CAP`: searches and price ranges count exactly up to this many matches.
    pub count_cap: i64,
}

/// Everything the catalog reads from its environment.
pub type CatalogConfig = Config<CatalogSettings>;

impl ServiceVars for CatalogSettings {
    type Raw = Raw;
    const INFO: &'static ServiceInfo = &crate::INFO;

    fn resolve(raw: Raw, _base: &BaseConfig) -> Result<Self, ConfigError> {
        if raw.inventory_reservation_ttl == 0 {
            return Err(ConfigError::invalid("INVENTORY_RESERVATION_TTL", "must be at least 1 minute"));
        }
        if raw.catalog_count_cap < 1 {
            return Err(ConfigError::invalid("CATALOG_COUNT_CAP", "must be at least 1"));
        }
        Ok(Self {
            database_read_url: raw.database_read_url.filter(|u| !u.expose().is_empty()),
            cache_ttl_secs: raw.catalog_cache_ttl,
            reservation_ttl_minutes: raw.inventory_reservation_ttl,
            count_cap: raw.catalog_count_cap,
        })
    }
}
