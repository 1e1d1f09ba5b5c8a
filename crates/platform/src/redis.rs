//! Redis: a bb8 pool of multiplexed connections and a key prefix (so tests and tenants never collide).

use std::time::Duration;

use bb8_redis::RedisConnectionManager;
use bb8_redis::bb8::{Pool, PooledConnection};

/// The pool every service uses.
pub type RedisPool = Pool<RedisConnectionManager>;

/// A connection taken from a [`RedisPool`].
pub type RedisConn<'a> = PooledConnection<'a, RedisConnectionManager>;

/// Redis access with the service's key prefix.
#[derive(Clone, Debug)]
pub struct Redis {
    /// Connection pool.
    pub pool: RedisPool,
    client: redis::Client,
    prefix: String,
}

impl Redis {
    /// Builds a lazy pool (the service starts, and reports not-ready, while Redis is down).
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self, redis::RedisError> {
        let manager = RedisConnectionManager::new(url)?;
        let pool =
            Pool::builder().max_size(16).connection_timeout(Duration::from_secs(2)).build_unchecked(manager);
        Ok(Self { pool, client: redis::Client::open(url)?, prefix: prefix.into() })
    }

    /// The client behind the pool, for connections managed elsewhere (the catalog cache keeps
    /// its own on a dedicated I/O thread).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// `prefix` + `key`.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// PING; used by `/ready`.
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
        let pong: String = redis::cmd("PING").query_async(&mut *conn).await.map_err(|e| e.to_string())?;
        if pong == "PONG" { Ok(()) } else { Err(format!("unexpected reply {pong:?}")) }
    }
}
