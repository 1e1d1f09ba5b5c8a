//! Redis: a bb8 pool of multiplexed connections and a key prefix (so tests and tenants never collide).
//!
//! The pool does not `PING` a connection each time it hands it out (bb8-redis's manager does,
//! which made every command two round trips). A connection instead notes when a command fails
//! for its transport ([`Connection`]), and the pool drops it when it comes back: after a Redis
//! restart, each pooled connection fails the one command that finds it dead, and the next
//! checkout connects afresh.

use std::time::Duration;

use bb8_redis::bb8::{ManageConnection, Pool, PooledConnection};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

/// The pool every service uses.
pub type RedisPool = Pool<Manager>;

/// A connection taken from a [`RedisPool`].
pub type RedisConn<'a> = PooledConnection<'a, Manager>;

/// Makes the pool's connections.
#[derive(Debug, Clone)]
pub struct Manager {
    client: redis::Client,
}

/// A multiplexed connection that remembers a transport failure, so the pool drops it.
pub struct Connection {
    inner: MultiplexedConnection,
    broken: bool,
}

impl Connection {
    fn note(&mut self, e: &RedisError) {
        if e.is_unrecoverable_error() || e.is_io_error() || e.is_connection_dropped() || e.is_timeout() {
            self.broken = true;
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let answer = self.inner.req_packed_command(cmd).await;
            if let Err(e) = &answer {
                self.note(e);
            }
            answer
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let answer = self.inner.req_packed_commands(pipeline, offset, count).await;
            if let Err(e) = &answer {
                self.note(e);
            }
            answer
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

impl ManageConnection for Manager {
    type Connection = Connection;
    type Error = RedisError;

    async fn connect(&self) -> Result<Connection, RedisError> {
        let inner = self.client.get_multiplexed_async_connection().await?;
        Ok(Connection { inner, broken: false })
    }

    async fn is_valid(&self, conn: &mut Connection) -> Result<(), RedisError> {
        let _: String = redis::cmd("PING").query_async(conn).await?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.broken
    }
}

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
        let client = redis::Client::open(url)?;
        let pool = Pool::builder()
            .max_size(16)
            .connection_timeout(Duration::from_secs(2))
            .test_on_check_out(false)
            .build_unchecked(Manager { client: client.clone() });
        Ok(Self { pool, client, prefix: prefix.into() })
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
