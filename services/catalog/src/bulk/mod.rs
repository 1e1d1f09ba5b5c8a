//! Bulk loading: `catalog seed --count N` (generated products) and `catalog import FILE.jsonl`.
//!
//! Both end in [`upsert_batch`]: one multi-row `INSERT ... SELECT FROM unnest(...) ON CONFLICT
//! (sku) DO UPDATE` per batch, so a batch costs one round trip and ten bind parameters
//! whatever its size. Neither writes per-product outbox events (docs/adr/0020).

pub mod generate;
pub mod import;
mod progress;
mod record;
mod upsert;

pub use progress::Progress;
pub use record::{NewProduct, ProductLine};
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
        config.connections.redis_url.expose(),
        config.redis_key_prefix.clone(),
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

/// `catalog seed --count N --seed S`: upserts products `1..=count` of [`generate::product`] in
/// batches, with progress on stderr.
pub async fn seed_generated(
    conn: &mut diesel_async::AsyncPgConnection,
    count: u64,
    seed: u64,
) -> diesel::QueryResult<UpsertCounts> {
    let mut progress = Progress::new("seed", "products");
    let mut counts = UpsertCounts::default();
    let mut next = 1;
    while next <= count {
        let end = count.min(next + BATCH_SIZE as u64 - 1);
        let rows: Vec<NewProduct> = (next..=end).map(|i| generate::product(seed, i)).collect();
        counts.add(upsert_batch(conn, &rows).await?);
        #[allow(clippy::cast_precision_loss)] // a progress fraction
        progress.update(end, Some(end as f64 / count as f64));
        next = end + 1;
    }
    progress.finish();
    Ok(counts)
}
