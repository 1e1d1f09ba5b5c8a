//! The configuration every service shares (ARCHITECTURE §6), declared once.
//!
//! A service reads its own variables with a second envy pass over the same environment
//! (envy cannot flatten structs that hold numbers), so each variable has one owner.

use std::net::SocketAddr;
use std::time::Duration;

use domain::money::Currency;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::ServiceInfo;
use crate::config::{self, AppEnv, ConfigError, Connections, DsnUrl, defaults};
use crate::http::HttpSettings;
use crate::telemetry::LogFormat;

/// `INTERNAL_TOKEN` outside production when none is set.
pub const DEV_INTERNAL_TOKEN: &str = "dev-internal-token";
/// `JWT_SECRET` outside production when none is set.
pub const DEV_JWT_SECRET: &str = "dev-jwt-secret";

/// How JWTs are verified.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 shared secret (`JWT_SECRET`).
    Secret(SecretString),
    /// RS256/ES256 public key (`JWT_PUBLIC_KEY_PEM`).
    PublicKeyPem(SecretString),
    /// An identity provider's key set (`JWT_JWKS_URL`), keys chosen by `kid`.
    JwksUrl(String),
}

#[derive(Deserialize)]
struct Raw {
    app_env: Option<String>,
    http_addr: Option<String>,
    database_url: Option<DsnUrl>,
    redis_url: Option<DsnUrl>,
    amqp_url: Option<DsnUrl>,
    internal_token: Option<SecretString>,
    jwt_secret: Option<SecretString>,
    jwt_public_key_pem: Option<SecretString>,
    jwt_jwks_url: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    log_format: Option<String>,
    #[serde(default = "defaults::db_pool_size")]
    db_pool_size: u32,
    #[serde(default = "defaults::db_statement_timeout_ms")]
    db_statement_timeout_ms: u64,
    #[serde(default)]
    http_workers: usize,
    #[serde(default)]
    shutdown_drain_seconds: u64,
    #[serde(default = "defaults::amqp_exchange")]
    amqp_exchange: String,
    #[serde(default)]
    amqp_queue_prefix: String,
    redis_key_prefix: Option<String>,
    ecommerce_currency: Option<String>,
}

/// The shared variables, resolved against [`AppEnv`] (production refuses development defaults).
#[derive(Debug, Clone)]
pub struct BaseConfig {
    /// `APP_ENV`: development / test / production.
    pub app_env: AppEnv,
    /// `HTTP_ADDR`.
    pub http_addr: SocketAddr,
    /// `DATABASE_URL`, `REDIS_URL`, `AMQP_URL`.
    pub connections: Connections,
    /// `INTERNAL_TOKEN`: bearer token of `/internal/v1` calls.
    pub internal_token: SecretString,
    /// `JWT_JWKS_URL`, `JWT_PUBLIC_KEY_PEM` or `JWT_SECRET` (the first one set).
    pub jwt: JwtKey,
    /// `JWT_ISSUER`: the `iss` every token must carry, when set.
    pub jwt_issuer: Option<String>,
    /// `JWT_AUDIENCE`: a value every token's `aud` must hold, when set.
    pub jwt_audience: Option<String>,
    /// `LOG_FORMAT` (`json` / `pretty`).
    pub log_format: LogFormat,
    /// `DB_POOL_SIZE`.
    pub db_pool_size: u32,
    /// `DB_STATEMENT_TIMEOUT_MS`: server-side cap on one statement.
    pub db_statement_timeout: Duration,
    /// `HTTP_WORKERS` (0 = one per core).
    pub http_workers: usize,
    /// `SHUTDOWN_DRAIN_SECONDS`: pause between readiness 503 and closing the listener.
    pub shutdown_drain_seconds: u64,
    /// `AMQP_EXCHANGE` (default `commerce.events`).
    pub amqp_exchange: String,
    /// `AMQP_QUEUE_PREFIX`: put before every consumer queue name (tests, shared brokers).
    pub amqp_queue_prefix: String,
    /// Tests only, never read from the environment: the exchange goes when unused.
    pub amqp_temporary_exchange: bool,
    /// Tests only, never read from the environment: consumer queues expire this long unused
    /// (quorum queues left behind by thousands of test runs would wear the broker down).
    pub amqp_queue_expires: Option<Duration>,
    /// `REDIS_KEY_PREFIX` (default `<service>:`).
    pub redis_key_prefix: String,
    /// `ECOMMERCE_CURRENCY` (USD, EUR, GBP, CAD; default USD).
    pub currency: Currency,
    /// `HTTP_HEAD_TIMEOUT_MS`, `HTTP_BODY_TIMEOUT_MS`, `HTTP_IDLE_TIMEOUT_MS`, `TRUSTED_PROXIES`.
    pub http: HttpSettings,
}

impl BaseConfig {
    /// Reads the process environment.
    pub fn from_env(info: &ServiceInfo) -> Result<Self, ConfigError> {
        Self::from_vars(info, std::env::vars())
    }

    /// Reads the given variables.
    pub fn from_vars(
        info: &ServiceInfo,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let raw: Raw = config::from_iter(vars.clone())?;
        let env: AppEnv = config::parse_var("APP_ENV", raw.app_env.as_deref())?.unwrap_or_default();
        let log_format: LogFormat =
            config::parse_var("LOG_FORMAT", raw.log_format.as_deref())?.unwrap_or_default();
        let http_addr = raw
            .http_addr
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .unwrap_or(info.default_http_addr)
            .parse()
            .map_err(|_| {
                ConfigError::invalid(
                    "HTTP_ADDR",
                    format!("expected host:port, e.g. {}", info.default_http_addr),
                )
            })?;
        // A service without Redis must not be asked for REDIS_URL in production.
        let redis_url = if info.uses_redis { raw.redis_url } else { Some(DsnUrl::new(defaults::REDIS_URL)) };
        let connections =
            Connections::resolve(env, raw.database_url.as_ref(), redis_url.as_ref(), raw.amqp_url.as_ref())?;
        let required = env.is_production() && info.uses_auth;
        let dev_default = |v: Option<SecretString>, name: &str, default: &str| match v {
            Some(s) if !s.expose_secret().is_empty() => Ok(s),
            _ if required => Err(ConfigError::Missing(name.to_owned())),
            _ => Ok(SecretString::from(default)),
        };
        let internal_token = dev_default(raw.internal_token, "INTERNAL_TOKEN", DEV_INTERNAL_TOKEN)?;
        let jwks_url = raw.jwt_jwks_url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        let jwt = match (jwks_url, raw.jwt_public_key_pem, raw.jwt_secret) {
            (Some(url), _, _) => {
                let https = url.starts_with("https://");
                if !(https || (url.starts_with("http://") && !env.is_production())) {
                    return Err(ConfigError::invalid(
                        "JWT_JWKS_URL",
                        "expected an https:// URL (http:// outside production)",
                    ));
                }
                JwtKey::JwksUrl(url)
            }
            (None, Some(pem), _) if !pem.expose_secret().is_empty() => JwtKey::PublicKeyPem(pem),
            (None, _, secret) => JwtKey::Secret(dev_default(secret, "JWT_SECRET", DEV_JWT_SECRET)?),
        };
        let text = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let currency = match raw.ecommerce_currency.as_deref().map(str::trim) {
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
            internal_token,
            jwt,
            jwt_issuer: text(raw.jwt_issuer),
            jwt_audience: text(raw.jwt_audience),
            log_format,
            db_pool_size: raw.db_pool_size,
            db_statement_timeout: Duration::from_millis(raw.db_statement_timeout_ms),
            http_workers: raw.http_workers,
            shutdown_drain_seconds: raw.shutdown_drain_seconds,
            amqp_exchange: raw.amqp_exchange,
            amqp_queue_prefix: raw.amqp_queue_prefix,
            amqp_temporary_exchange: false,
            amqp_queue_expires: None,
            redis_key_prefix: raw.redis_key_prefix.unwrap_or_else(|| format!("{}:", info.name)),
            currency,
            http: HttpSettings::from_vars(&vars)?,
        })
    }
}

/// A service's own variables: read by a second envy pass over the same environment, then
/// resolved against the shared ones.
pub trait ServiceVars: Sized {
    /// What envy reads (field names are the variables, lower-cased).
    type Raw: DeserializeOwned;
    /// The service these variables belong to.
    const INFO: &'static ServiceInfo;
    /// Checks `raw` and turns it into the service's settings.
    fn resolve(raw: Self::Raw, base: &BaseConfig) -> Result<Self, ConfigError>;
}

/// A service's whole configuration: the shared variables and its own (reached through `Deref`).
#[derive(Debug, Clone)]
pub struct Config<S> {
    /// The variables every service shares.
    pub base: BaseConfig,
    /// The service's own settings.
    pub service: S,
}

impl<S: ServiceVars> Config<S> {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the given variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let base = BaseConfig::from_vars(S::INFO, vars.clone())?;
        let raw: S::Raw = config::from_iter(vars)?;
        let service = S::resolve(raw, &base)?;
        Ok(Self { base, service })
    }
}

impl<S> std::ops::Deref for Config<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.service
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: ServiceInfo =
        ServiceInfo::new("sample", "sample", "0.0.0.0:8089", diesel_migrations::EmbeddedMigrations::new(&[]))
            .without_redis();

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn development_has_local_defaults() {
        let c = BaseConfig::from_vars(&INFO, vars(&[])).unwrap();
        assert_eq!(c.http_addr.port(), 8089);
        assert_eq!(c.redis_key_prefix, "sample:");
        assert_eq!(c.connections.database_url.expose(), defaults::DATABASE_URL);
        assert_eq!(c.internal_token.expose_secret(), DEV_INTERNAL_TOKEN);
    }

    #[test]
    fn production_names_the_first_missing_variable() {
        let err = BaseConfig::from_vars(&INFO, vars(&[("APP_ENV", "production")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("DATABASE_URL".into()));
        // No REDIS_URL needed: this service does not use Redis.
        let err = BaseConfig::from_vars(
            &INFO,
            vars(&[("APP_ENV", "production"), ("DATABASE_URL", "postgres://h/db"), ("AMQP_URL", "amqp://h")]),
        )
        .unwrap_err();
        assert_eq!(err, ConfigError::Missing("INTERNAL_TOKEN".into()));
    }

    #[test]
    fn numbers_are_parsed_and_named() {
        let err = BaseConfig::from_vars(&INFO, vars(&[("DB_POOL_SIZE", "many")])).unwrap_err();
        assert!(err.to_string().contains("DB_POOL_SIZE"), "{err}");
        let err = BaseConfig::from_vars(&INFO, vars(&[("ECOMMERCE_CURRENCY", "XYZ")])).unwrap_err();
        assert!(err.to_string().contains("ECOMMERCE_CURRENCY"), "{err}");
        let err = BaseConfig::from_vars(&INFO, vars(&[("HTTP_ADDR", "nope")])).unwrap_err();
        assert!(err.to_string().contains("HTTP_ADDR"), "{err}");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = BaseConfig::from_vars(&INFO, vars(&[("JWT_SECRET", "hunter2"), ("INTERNAL_TOKEN", "tok3n")]))
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("tok3n"), "{dbg}");
    }
}
