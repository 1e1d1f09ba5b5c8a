//! Bulk loading: `catalog seed --count N` (generated products) and `catalog import FILE.jsonl`.
//!
//! Both end in [`upsert_batch`]: one multi-row `INSERT ... SELECT FROM unnest(...) ON CONFLICT
//! (sku) DO UPDATE` per batch, so a batch costs one round trip and ten bind parameters
//! whatever its size. Neither writes per-product outbox events (docs/adr/0020).

pub mod generate;
pub mod import;
pub mod indexes;
mod progress;
mod record;
mod seed;
mod upsert;

pub use progress::Progress;
pub use record::{NewProduct, ProductLine};
pub use seed::{BULK_CONNECTIONS, seed_generated};
pub use upsert::{UpsertCounts, upsert_batch};

/// Rows per `INSERT` statement: large enough that round trips do not dominate, small enough
/// that one failing batch is cheap to retry row by row.
pub const BATCH_SIZE: usize = 2_000;

/// Where a bulk load tells the listing cache that products changed: one version bump once the
/// load has committed, not one per batch (cached pages may show the old data during the load,
/// and never for more than 5 s after it).
pub async fn invalidate_listing_cache_after_bulk_load(config: &crate::config::CatalogConfig) {
    use crate::cache::{CacheTiming, PageCache};
    let redis = match platform::redis::Redis::new(
        config.base.connections.redis_url.expose(),
        config.base.redis_key_prefix.clone(),
    ) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "listing cache not invalidated; pages expire within 5 s");
            return;
        }
    };
    let ttl = std::time::Duration::from_secs(config.cache_ttl_secs);
    PageCache::new(redis, CacheTiming::from_ttl(ttl), config.cache_ttl_secs > 0).bump().await;
}

/// Session settings for a bulk-load connection.
///
/// `synchronous_commit = off`: a batch's commit does not wait for its WAL flush. A crash can
/// lose the last few batches, never corrupt anything, and both loaders are idempotent upserts
/// meant to be re-run; the setting is local to this session, other writers keep full
/// durability. A larger `gin_pending_list_limit` lets GIN indexes (attributes, trigram search)
/// buffer more rows before merging them, which is where bulk inserts spend their time.
pub async fn tune_for_bulk_load(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<()> {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute("SET synchronous_commit = off; SET gin_pending_list_limit = '32MB'").await
}
