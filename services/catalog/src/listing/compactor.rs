//! Folds `listing_count_deltas` into `listing_counts` (docs/adr/0013-listing-totals.md). Runs in
//! every `catalog serve`; replicas may fold side by side (each delta row is folded once). Reads
//! are exact whether or not it has run: it only keeps the delta table small.

use std::time::Duration;

use platform::db::PgPool;
use platform::shutdown::Shutdown;

/// How often the deltas are folded.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// A fold of this many delta rows or more is followed by a vacuum of the count tables
/// ([`super::repo::vacuum_count_tables`]): a bulk load's deltas, not a shop's steady trickle.
pub const VACUUM_AFTER: i64 = 10_000;

/// Folds every committed delta now; returns how many delta rows were folded.
pub async fn compact(pool: &PgPool) -> anyhow::Result<i64> {
    let mut conn = pool.get().await?;
    let folded = super::repo::fold_count_deltas(&mut conn).await?;
    if folded >= VACUUM_AFTER {
        super::repo::vacuum_count_tables(&mut conn).await?;
    }
    Ok(folded)
}

/// After a bulk load: folds its deltas and vacuums the count tables at once, so the first
/// searches do not wait for the compactor and autovacuum; returns how many rows were folded.
pub async fn settle(conn: &mut diesel_async::AsyncPgConnection) -> anyhow::Result<i64> {
    let folded = super::repo::fold_count_deltas(conn).await?;
    super::repo::vacuum_count_tables(conn).await?;
    Ok(folded)
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
