//! HTTP server settings every service reads from the environment.

use std::time::Duration;

use crate::config::ConfigError;

/// Time-outs and proxy trust of the HTTP server.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `HTTP_HEAD_TIMEOUT_MS`: longest wait for a request head.
    pub head_timeout: Duration,
    /// `HTTP_BODY_TIMEOUT_MS`: longest time to read one request body.
    pub body_timeout: Duration,
    /// `HTTP_IDLE_TIMEOUT_MS`: how long an idle keep-alive connection stays open.
    pub idle_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
        }
    }
}

impl HttpSettings {
    /// Reads the settings from `vars`, defaults for those not set.
    pub fn from_vars(vars: &[(String, String)]) -> Result<Self, ConfigError> {
        let ms = |name: &str, default: Duration| -> Result<Duration, ConfigError> {
            match vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()) {
                None | Some("") => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Duration::from_millis)
                    .ok_or_else(|| ConfigError::invalid(name, "expected milliseconds, at least 1")),
            }
        };
        let d = Self::default();
        Ok(Self {
            head_timeout: ms("HTTP_HEAD_TIMEOUT_MS", d.head_timeout)?,
            body_timeout: ms("HTTP_BODY_TIMEOUT_MS", d.body_timeout)?,
            idle_timeout: ms("HTTP_IDLE_TIMEOUT_MS", d.idle_timeout)?,
        })
    }
}
