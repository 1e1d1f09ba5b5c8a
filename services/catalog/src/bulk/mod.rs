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

/// Where a bulk load tells the listing cache that products changed.
///
/// The tag-versioned listing cache (built on the `catalog-read` branch) is bumped here once a
/// bulk load has committed; until that lands this hook only logs. One bump per load, not per
/// batch: cached pages may show the old data for the duration of the load.
#[allow(clippy::unused_async)] // the cache bump it stands for is async
pub async fn invalidate_listing_cache_after_bulk_load(_config: &crate::config::CatalogConfig) {
    tracing::info!("bulk load finished: listing cache invalidation hook (no cache yet)");
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
