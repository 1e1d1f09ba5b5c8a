//! Folds `listing_count_deltas` into `listing_counts` (docs/adr/0013-listing-totals.md). Runs in
//! every `catalog serve`; replicas may fold side by side (each delta row is folded once). Reads
//! are exact whether or not it has run: it only keeps the delta table small.

use std::time::Duration;

use platform::db::PgPool;
use platform::shutdown::Shutdown;

/// How often the deltas are folded.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// Folds every committed delta now; returns how many delta rows were folded.
pub async fn compact(pool: &PgPool) -> anyhow::Result<i64> {
    let mut conn = pool.get().await?;
    Ok(super::repo::fold_count_deltas(&mut conn).await?)
}

/// Compacts every `interval` until `shutdown`; a failed round is logged and retried.
pub async fn run(pool: PgPool, interval: Duration, shutdown: Shutdown) {
    shutdown
        .every(interval, || async {
            if let Err(e) = compact(&pool).await {
                tracing::warn!(error = %e, "listing count compaction failed");
            }
        })
        .await;
}
