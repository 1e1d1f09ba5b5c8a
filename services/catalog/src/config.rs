//! The catalog's configuration, read from the environment (ARCHITECTURE §5–§6).

use std::net::SocketAddr;

use domain::money::Currency;
use platform::config::{self, AppEnv, ConfigError, Connections, DsnUrl, Secret};
use platform::telemetry::LogFormat;
use serde::Deserialize;

#[derive(Deserialize)]
struct Raw {
    app_env: Option<String>,
    http_addr: Option<String>,
    database_url: Option<DsnUrl>,
    database_read_url: Option<DsnUrl>,
    redis_url: Option<DsnUrl>,
    amqp_url: Option<DsnUrl>,
    internal_token: Option<Secret>,
    jwt_secret: Option<Secret>,
    jwt_public_key_pem: Option<Secret>,
    log_format: Option<String>,
    ecommerce_currency: Option<String>,
    #[serde(default = "default_cache_ttl")]
    catalog_cache_ttl: u64,
    #[serde(default = "default_reservation_ttl")]
    inventory_reservation_ttl: u64,
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
    #[serde(default = "default_redis_prefix")]
    redis_key_prefix: String,
}

fn default_cache_ttl() -> u64 {
    3600
}
fn default_reservation_ttl() -> u64 {
    15
}
fn default_redis_prefix() -> String {
    "catalog:".to_owned()
}

/// How JWTs are verified.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 shared secret.
    Secret(Secret),
    /// RS256/ES256 public key.
    PublicKeyPem(Secret),
}

/// Everything the catalog reads from its environment.
#[derive(Debug, Clone)]
pub struct CatalogConfig {
    /// development / test / production.
    pub app_env: AppEnv,
    /// `HTTP_ADDR`.
    pub http_addr: SocketAddr,
    /// PostgreSQL, Redis and RabbitMQ.
    pub connections: Connections,
    /// `DATABASE_READ_URL`: replica for listings (primary when unset).
    pub database_read_url: Option<DsnUrl>,
    /// `INTERNAL_TOKEN`.
    pub internal_token: Secret,
    /// `JWT_SECRET` or `JWT_PUBLIC_KEY_PEM`.
    pub jwt: JwtKey,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `ECOMMERCE_CURRENCY`.
    pub currency: Currency,
    /// `CATALOG_CACHE_TTL` seconds.
    pub cache_ttl_secs: u64,
    /// `INVENTORY_RESERVATION_TTL` minutes.
    pub reservation_ttl_minutes: u64,
    /// `DB_POOL_SIZE`.
    pub db_pool_size: u32,
    /// `DB_STATEMENT_TIMEOUT_MS`: server-side cap on one statement.
    pub db_statement_timeout: std::time::Duration,
    /// `HTTP_WORKERS` (0 = one per core).
    pub http_workers: usize,
    /// `SHUTDOWN_DRAIN_SECONDS`: pause between readiness 503 and stopping the listener.
    pub shutdown_drain_seconds: u64,
    /// `AMQP_EXCHANGE` (default `commerce.events`).
    pub amqp_exchange: String,
    /// `REDIS_KEY_PREFIX`.
    pub redis_key_prefix: String,
}

/// The catalog's PostgreSQL schema.
pub const SCHEMA: &str = "catalog";
const DEFAULT_ADDR: &str = "0.0.0.0:8081";
const DEV_INTERNAL_TOKEN: &str = "dev-internal-token";
const DEV_JWT_SECRET: &str = "dev-jwt-secret";

impl CatalogConfig {
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
            .map_err(|_| ConfigError::invalid("HTTP_ADDR", "expected host:port, e.g. 0.0.0.0:8081"))?;
        let connections = Connections::resolve(
            env,
            raw.database_url.as_ref(),
            raw.redis_url.as_ref(),
            raw.amqp_url.as_ref(),
        )?;
        let dev_default = |v: Option<Secret>, name: &str, default: &str| match v {
            Some(s) if !s.expose().is_empty() => Ok(s),
            _ if env.is_production() => Err(ConfigError::Missing(name.to_owned())),
            _ => Ok(Secret::new(default)),
        };
        let internal_token = dev_default(raw.internal_token, "INTERNAL_TOKEN", DEV_INTERNAL_TOKEN)?;
        let jwt = match (raw.jwt_public_key_pem, raw.jwt_secret) {
            (Some(pem), _) if !pem.expose().is_empty() => JwtKey::PublicKeyPem(pem),
            (_, secret) => JwtKey::Secret(dev_default(secret, "JWT_SECRET", DEV_JWT_SECRET)?),
        };
        let currency = match raw.ecommerce_currency.as_deref() {
            None | Some("") => Currency::Usd,
            Some(code) => code.parse().map_err(|_| {
                ConfigError::invalid("ECOMMERCE_CURRENCY", "expected one of USD, EUR, GBP, CAD")
            })?,
        };
        if raw.db_statement_timeout_ms == 0 {
            return Err(ConfigError::invalid("DB_STATEMENT_TIMEOUT_MS", "must be at least 1"));
        }
        if raw.db_pool_size == 0 {
            return Err(ConfigError::invalid("DB_POOL_SIZE", "must be at least 1"));
        }
        Ok(Self {
            app_env: env,
            http_addr,
            connections,
            database_read_url: raw.database_read_url.filter(|u| !u.expose().is_empty()),
            internal_token,
            jwt,
            log_format,
            currency,
            cache_ttl_secs: raw.catalog_cache_ttl,
            reservation_ttl_minutes: raw.inventory_reservation_ttl,
            db_pool_size: raw.db_pool_size,
            db_statement_timeout: std::time::Duration::from_millis(raw.db_statement_timeout_ms),
            http_workers: raw.http_workers,
            shutdown_drain_seconds: raw.shutdown_drain_seconds,
            amqp_exchange: raw.amqp_exchange,
            redis_key_prefix: raw.redis_key_prefix,
        })
    }
}
