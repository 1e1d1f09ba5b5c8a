//! Where carts live (docs/adr/0060-cart-stores.md):
//!
//! - a guest cart lives in Redis only (`cart:{id}` and the token index `guest:{sha256}`), for
//!   `CART_GUEST_TTL_SECONDS` after its last change; after that, or after a Redis flush, it is gone;
//! - a customer's cart is written to PostgreSQL first (the source of truth), then copied to
//!   Redis (`cart:{id}`, `CART_CACHE_TTL_SECONDS`); a Redis miss reloads it from PostgreSQL and
//!   puts it back with `SET NX`, so a slow reader never overwrites a newer copy;
//! - changes to one cart are serialised by a short Redis mutex (`lock:{id}`).

use std::time::Duration;

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::events::Envelope;
use domain::ids::CartId;
use platform::db::PgPool;
use platform::http::ApiError;
use platform::redis::{Redis, RedisConn};

use super::model::{Cart, Owner};
use super::repo;

/// Why the store could not do what was asked; every case answers 503 (try again).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis failed or is unreachable.
    #[error("redis: {0}")]
    Redis(String),
    /// PostgreSQL failed or is unreachable.
    #[error("database: {0}")]
    Database(String),
    /// Another change to the same cart held its mutex for too long.
    #[error("the cart is busy")]
    Busy,
}

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        Self::Redis(e.to_string())
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e.to_string())
    }
}

impl From<platform::db::PoolError> for StoreError {
    fn from(e: platform::db::PoolError) -> Self {
        Self::Database(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "cart store unavailable");
        match e {
            StoreError::Busy => ApiError::Unavailable("The cart is being changed; try again".to_owned()),
            _ => ApiError::Unavailable("The cart store is temporarily unavailable".to_owned()),
        }
    }
}

/// How long carts stay in Redis.
#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    /// A guest cart's life after its last change.
    pub guest: Duration,
    /// How long a customer's cart stays cached in Redis after its last change or reload.
    pub customer_cache: Duration,
}

/// How long a change may hold a cart's mutex (several catalog calls fit in it).
const MUTEX_LEASE: Duration = Duration::from_secs(20);
/// How long a change waits for the mutex before answering 503.
const MUTEX_WAIT: Duration = Duration::from_secs(5);

/// Redis and PostgreSQL behind one interface.
#[derive(Clone)]
pub struct CartStore {
    redis: Redis,
    pool: PgPool,
    ttls: Ttls,
}

impl CartStore {
    /// A store over these pools.
    pub fn new(redis: Redis, pool: PgPool, ttls: Ttls) -> Self {
        Self { redis, pool, ttls }
    }

    async fn redis(&self) -> Result<RedisConn<'_>, StoreError> {
        self.redis.pool.get().await.map_err(|e| StoreError::Redis(e.to_string()))
    }

    fn cart_key(&self, id: CartId) -> String {
        self.redis.key(&format!("cart:{id}"))
    }

    fn guest_key(&self, token_hash: &str) -> String {
        self.redis.key(&format!("guest:{token_hash}"))
    }

    fn ttl_of(&self, cart: &Cart) -> Duration {
        match cart.owner {
            Owner::Guest(_) => self.ttls.guest,
            Owner::Customer(_) => self.ttls.customer_cache,
        }
    }

    /// A cart by id: Redis first, then PostgreSQL (customers' carts only).
    pub async fn load(&self, id: CartId) -> Result<Option<Cart>, StoreError> {
        let key = self.cart_key(id);
        let cached: Option<String> = {
            let mut conn = self.redis().await?;
            redis::cmd("GET").arg(&key).query_async(&mut *conn).await?
        };
        if let Some(json) = cached {
            match serde_json::from_str::<Cart>(&json) {
                Ok(cart) => return Ok(Some(cart)),
                // Written by an incompatible version: fall through to PostgreSQL.
                Err(e) => tracing::warn!(cart_id = %id, error = %e, "unreadable cached cart"),
            }
        }
        let cart = {
            let mut conn = self.pool.get().await?;
            repo::load(&mut conn, id).await?
        };
        if let Some(cart) = &cart {
            self.cache(cart, false).await?;
        }
        Ok(cart)
    }

    /// Customer `sub`'s cart (found through PostgreSQL, read through Redis).
    pub async fn load_by_customer(&self, sub: &str) -> Result<Option<Cart>, StoreError> {
        let found = {
            let mut conn = self.pool.get().await?;
            repo::load_by_customer(&mut conn, sub).await?
        };
        match found {
            // The cached copy is at least as new as the row (it is written after the row).
            Some(cart) => Ok(self.load(cart.id).await?.or(Some(cart))),
            None => Ok(None),
        }
    }

    /// The guest cart a token (by its hash) opens, if it still exists.
    pub async fn load_by_token_hash(&self, token_hash: &str) -> Result<Option<Cart>, StoreError> {
        let id: Option<String> = {
            let mut conn = self.redis().await?;
            redis::cmd("GET").arg(self.guest_key(token_hash)).query_async(&mut *conn).await?
        };
        let Some(id) = id.and_then(|s| s.parse::<CartId>().ok()) else { return Ok(None) };
        Ok(self.load(id).await?.filter(|c| c.owner == Owner::Guest(token_hash.to_owned())))
    }

    /// Puts a cart into Redis. `overwrite = false` only fills a miss (`SET NX`).
    async fn cache(&self, cart: &Cart, overwrite: bool) -> Result<(), StoreError> {
        let json = serde_json::to_string(cart).map_err(|e| StoreError::Redis(e.to_string()))?;
        let ttl = self.ttl_of(cart).as_secs().max(1);
        let mut conn = self.redis().await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        let set = pipe.cmd("SET").arg(self.cart_key(cart.id)).arg(json).arg("EX").arg(ttl);
        if !overwrite {
            set.arg("NX");
        }
        set.ignore();
        if let Owner::Guest(hash) = &cart.owner {
            pipe.cmd("SET").arg(self.guest_key(hash)).arg(cart.id.to_string()).arg("EX").arg(ttl).ignore();
        }
        let () = pipe.query_async(&mut *conn).await?;
        Ok(())
    }

    /// Saves a change (bumping the version), with `events` for the outbox.
    ///
    /// A customer's cart and the events commit in one PostgreSQL transaction before Redis is
    /// touched; if Redis then fails, the cached copy is dropped (best effort) and the change
    /// stands. A guest cart's change stands only once Redis has it.
    pub async fn save(&self, cart: &mut Cart, events: &[Envelope]) -> Result<(), StoreError> {
        cart.version += 1;
        cart.updated_at = Utc::now();
        if matches!(cart.owner, Owner::Customer(_)) || !events.is_empty() {
            let mut conn = self.pool.get().await?;
            let snapshot = cart.clone();
            conn.transaction::<_, diesel::result::Error, _>(async |c| persist(c, &snapshot, events).await)
                .await?;
        }
        self.write_through(cart).await
    }

    /// [`CartStore::save`] inside the caller's open transaction (the event consumer's).
    pub async fn save_in(&self, conn: &mut AsyncPgConnection, cart: &mut Cart) -> Result<(), StoreError> {
        cart.version += 1;
        cart.updated_at = Utc::now();
        persist(conn, cart, &[]).await?;
        self.write_through(cart).await
    }

    async fn write_through(&self, cart: &Cart) -> Result<(), StoreError> {
        match (self.cache(cart, true).await, &cart.owner) {
            (Ok(()), _) => Ok(()),
            (Err(e), Owner::Guest(_)) => Err(e),
            (Err(e), Owner::Customer(_)) => {
                tracing::warn!(cart_id = %cart.id, error = %e, "cart saved but not cached");
                let _ = self.uncache(cart).await;
                Ok(())
            }
        }
    }

    async fn uncache(&self, cart: &Cart) -> Result<(), StoreError> {
        let mut conn = self.redis().await?;
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.cart_key(cart.id));
        if let Owner::Guest(hash) = &cart.owner {
            cmd.arg(self.guest_key(hash));
        }
        let _: i64 = cmd.query_async(&mut *conn).await?;
        Ok(())
    }

    /// Drops a guest token's index entry (its cart became a customer's).
    pub async fn forget_token(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut conn = self.redis().await?;
        let _: i64 = redis::cmd("DEL").arg(self.guest_key(token_hash)).query_async(&mut *conn).await?;
        Ok(())
    }

    /// Deletes a cart everywhere.
    pub async fn delete(&self, cart: &Cart) -> Result<(), StoreError> {
        if matches!(cart.owner, Owner::Customer(_)) {
            let mut conn = self.pool.get().await?;
            repo::delete(&mut conn, cart.id).await?;
        }
        self.uncache(cart).await
    }

    /// [`CartStore::delete`] inside the caller's open transaction.
    pub async fn delete_in(&self, conn: &mut AsyncPgConnection, cart: &Cart) -> Result<(), StoreError> {
        repo::delete(conn, cart.id).await?;
        self.uncache(cart).await
    }

    /// Takes the cart's mutex (waits up to a few seconds, then [`StoreError::Busy`]).
    pub async fn lock(&self, id: CartId) -> Result<CartMutex, StoreError> {
        let key = self.redis.key(&format!("lock:{id}"));
        let token = uuid::Uuid::new_v4().simple().to_string();
        let lease_ms = u64::try_from(MUTEX_LEASE.as_millis()).unwrap_or(u64::MAX);
        let deadline = tokio::time::Instant::now() + MUTEX_WAIT;
        let mut pause = Duration::from_millis(2);
        loop {
            let acquired: Option<String> = {
                let mut conn = self.redis().await?;
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(lease_ms)
                    .query_async(&mut *conn)
                    .await?
            };
            if acquired.is_some() {
                return Ok(CartMutex { redis: self.redis.clone(), key, token, released: false });
            }
            if tokio::time::Instant::now() + pause > deadline {
                return Err(StoreError::Busy);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

async fn persist(conn: &mut AsyncPgConnection, cart: &Cart, events: &[Envelope]) -> diesel::QueryResult<()> {
    repo::save(conn, cart).await?;
    for event in events {
        platform::events::enqueue(conn, event).await?;
    }
    Ok(())
}

/// Deletes the mutex only if it is still ours (a lease that ran out may be someone else's now).
const UNLOCK_SCRIPT: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// A held cart mutex; [`CartMutex::release`] it (a dropped one is released in the background).
pub struct CartMutex {
    redis: Redis,
    key: String,
    token: String,
    released: bool,
}

impl CartMutex {
    /// Gives the mutex back.
    pub async fn release(mut self) {
        self.released = true;
        unlock(&self.redis, &self.key, &self.token).await;
    }
}

async fn unlock(redis: &Redis, key: &str, token: &str) {
    let Ok(mut conn) = redis.pool.get().await else { return };
    let result: Result<i64, _> =
        redis::cmd("EVAL").arg(UNLOCK_SCRIPT).arg(1).arg(key).arg(token).query_async(&mut *conn).await;
    if let Err(e) = result {
        // The lease runs out by itself.
        tracing::warn!(error = %e, "could not release a cart mutex");
    }
}

impl Drop for CartMutex {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let (redis, key, token) =
                (self.redis.clone(), std::mem::take(&mut self.key), std::mem::take(&mut self.token));
            handle.spawn(async move { unlock(&redis, &key, &token).await });
        }
    }
}
