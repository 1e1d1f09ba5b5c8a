//! Bulk loading: `catalog seed --count N` (generated products) and `catalog import FILE.jsonl`.
//!
//! Both end in [`upsert_batch`]: one multi-row `INSERT ... SELECT FROM unnest(...) ON CONFLICT
//! (sku) DO UPDATE` per batch, so a batch costs one round trip and ten bind parameters
//! whatever its size. Neither writes per-product outbox events (docs/adr/0020).

pub mod generate;
pub mod import;
mod progress;
mod record;
pub mod repo;
mod seed;

pub use progress::Progress;
pub use record::{NewProduct, ProductLine};
pub use repo::{UpsertCounts, tune_for_bulk_load, upsert_batch};
pub use seed::{BULK_CONNECTIONS, seed_generated};

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

/// After a bulk load has committed: its maintained-count deltas folded and the count tables
/// vacuumed ([`crate::listing::compactor::settle`]). Best effort: the compactor of `catalog
/// serve` folds them anyway, a little later.
pub async fn settle_counts_after_bulk_load(config: &crate::config::CatalogConfig) {
    let started = std::time::Instant::now();
    let settled = async {
        let mut conn =
            platform::db::connect(config.base.connections.database_url.expose(), crate::SCHEMA).await?;
        crate::listing::compactor::settle(&mut conn).await
    };
    match settled.await {
        Ok(n) => eprintln!(
            "catalog: folded {n} count delta(s) and vacuumed the count tables in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
        Err(e) => tracing::warn!(error = %e, "count deltas not folded after the load; the compactor will"),
    }
}

/// `--defer-gin-indexes` (the statements are in [`repo`]).
pub mod indexes {
    pub use super::repo::{DroppedIndex, drop_gin_indexes, rebuild};
}
