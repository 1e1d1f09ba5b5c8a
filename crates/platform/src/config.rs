//! Typed configuration from the environment (envy), with one-line errors and redacted secrets.

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A configuration problem, phrased as one line naming the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is absent.
    #[error("configuration error: environment variable {0} is required but not set")]
    Missing(String),
    /// A variable is present but cannot be used.
    #[error("configuration error: environment variable {name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: String,
        /// Why it was rejected (never the value of a secret).
        reason: String,
    },
}

impl ConfigError {
    /// Shorthand for [`ConfigError::Invalid`].
    pub fn invalid(name: &str, reason: impl Into<String>) -> Self {
        Self::Invalid { name: name.to_owned(), reason: reason.into() }
    }
}

/// Reads `T` from the process environment.
pub fn from_env<T: DeserializeOwned>() -> Result<T, ConfigError> {
    from_iter(std::env::vars())
}

/// Reads `T` from the given variables (tests pass their own).
pub fn from_iter<T, I>(vars: I) -> Result<T, ConfigError>
where
    T: DeserializeOwned,
    I: IntoIterator<Item = (String, String)>,
{
    envy::from_iter(vars).map_err(|e| match e {
        envy::Error::MissingValue(field) => ConfigError::Missing(field.to_ascii_uppercase()),
        envy::Error::Custom(msg) => custom_to_config_error(&msg),
    })
}

/// envy reports parse failures as "... while parsing value '<v>' provided by <VAR>";
/// keep the variable, drop the value (it may be a secret).
fn custom_to_config_error(msg: &str) -> ConfigError {
    if let Some((head, var)) = msg.rsplit_once(" provided by ") {
        let reason = head.split(" while parsing value").next().unwrap_or(head);
        return ConfigError::invalid(var.trim(), reason.trim());
    }
    ConfigError::Invalid { name: "(unknown)".to_owned(), reason: msg.to_owned() }
}

/// Parses an optional variable with `FromStr`, naming it on failure (envy cannot name
/// variables whose enum value is unknown, so enums are read as strings and parsed here).
pub fn parse_var<T>(name: &str, value: Option<&str>) -> Result<Option<T>, ConfigError>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|e| ConfigError::invalid(name, e.to_string())),
    }
}

/// Where the service runs: production refuses development defaults for URLs and secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    /// Laptops and tests: local defaults are fine.
    #[default]
    Development,
    /// Tests (same rules as development).
    Test,
    /// Everything must be configured explicitly.
    Production,
}

impl std::str::FromStr for AppEnv {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "development" | "dev" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            _ => Err("expected development, test or production".to_owned()),
        }
    }
}

impl AppEnv {
    /// True in production.
    pub fn is_production(self) -> bool {
        self == Self::Production
    }
}

pub use secrecy::{ExposeSecret, SecretString};

/// A URL that may carry a password: `Debug` shows it with the password replaced.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DsnUrl(String);

impl DsnUrl {
    /// Wraps a URL.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The full URL, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// The URL with any password replaced by `***`, safe to log.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Debug for DsnUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

/// Replaces the password part of `scheme://user:password@host` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The connection settings every service shares (ARCHITECTURE §6), resolved against [`AppEnv`].
#[derive(Debug, Clone)]
pub struct Connections {
    /// PostgreSQL (primary).
    pub database_url: DsnUrl,
    /// Redis.
    pub redis_url: DsnUrl,
    /// RabbitMQ.
    pub amqp_url: DsnUrl,
}

/// Development defaults for [`Connections`].
pub mod defaults {
    /// Local PostgreSQL.
    pub const DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/commerce";
    /// Local Redis.
    pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
    /// Local RabbitMQ.
    pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

    /// `DB_POOL_SIZE` when unset (a serde default for every service's config).
    pub const fn db_pool_size() -> u32 {
        16
    }

    /// `DB_STATEMENT_TIMEOUT_MS` when unset.
    pub const fn db_statement_timeout_ms() -> u64 {
        30_000
    }

    /// `AMQP_EXCHANGE` when unset: the platform's topic exchange.
    pub fn amqp_exchange() -> String {
        domain::events::EXCHANGE.to_owned()
    }
}

impl Connections {
    /// Resolves the three URLs: required in production, local defaults otherwise.
    pub fn resolve(
        env: AppEnv,
        database_url: Option<&DsnUrl>,
        redis_url: Option<&DsnUrl>,
        amqp_url: Option<&DsnUrl>,
    ) -> Result<Self, ConfigError> {
        let pick = |v: Option<&DsnUrl>, name: &str, default: &str| -> Result<DsnUrl, ConfigError> {
            match v {
                Some(u) if !u.expose().trim().is_empty() => Ok(u.clone()),
                _ if env.is_production() => Err(ConfigError::Missing(name.to_owned())),
                _ => Ok(DsnUrl::new(default)),
            }
        };
        Ok(Self {
            database_url: pick(database_url, "DATABASE_URL", defaults::DATABASE_URL)?,
            redis_url: pick(redis_url, "REDIS_URL", defaults::REDIS_URL)?,
            amqp_url: pick(amqp_url, "AMQP_URL", defaults::AMQP_URL)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // fields exist to be deserialised
    struct Sample {
        database_url: String,
        http_port: Option<u16>,
        flag: Option<bool>,
        token: Option<SecretString>,
    }

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn missing_variable_is_named() {
        let err = from_iter::<Sample, _>(vars(&[])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("DATABASE_URL".into()));
        assert!(err.to_string().contains("DATABASE_URL"));
    }

    #[test]
    fn malformed_variable_is_named_without_its_value() {
        let err =
            from_iter::<Sample, _>(vars(&[("DATABASE_URL", "x"), ("HTTP_PORT", "eighty")])).unwrap_err();
        let line = err.to_string();
        assert!(line.contains("HTTP_PORT"), "{line}");
        assert!(!line.contains("eighty"), "{line}");
        assert!(!line.contains('\n'));
        let err = from_iter::<Sample, _>(vars(&[("DATABASE_URL", "x"), ("FLAG", "maybe")])).unwrap_err();
        assert!(err.to_string().contains("FLAG"), "{err}");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s: Sample = from_iter(vars(&[("DATABASE_URL", "x"), ("TOKEN", "hunter2")])).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert_eq!(s.token.map(|t| t.expose_secret().to_owned()), Some("hunter2".to_owned()));
    }

    #[test]
    fn url_passwords_are_redacted() {
        assert_eq!(
            redact_url("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact_url("postgres://postgres@h/db"), "postgres://postgres@h/db");
        assert_eq!(redact_url("redis://:pw@h:6379"), "redis://:***@h:6379");
        assert!(!format!("{:?}", DsnUrl::new("postgres://u:p4ss@h/db")).contains("p4ss"));
    }

    #[test]
    fn production_requires_urls() {
        let err = Connections::resolve(AppEnv::Production, None, None, None).unwrap_err();
        assert_eq!(err, ConfigError::Missing("DATABASE_URL".into()));
        let dev = Connections::resolve(AppEnv::Development, None, None, None).unwrap();
        assert_eq!(dev.database_url.expose(), defaults::DATABASE_URL);
    }
}
