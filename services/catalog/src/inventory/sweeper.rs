//! Releases expired reservations. Runs in every `catalog serve`; `FOR UPDATE SKIP LOCKED`
//! lets replicas sweep side by side, each taking rows the others have not locked.

use std::time::Duration;

use diesel_async::AsyncConnection;
use platform::db::PgPool;
use platform::shutdown::Shutdown;

use super::repo;

/// How often a sweep runs by default: expiry is counted in minutes, seconds of lag are fine.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// Reservations expired per transaction.
const BATCH: i64 = 500;

/// The expiry sweeper.
pub struct Sweeper {
    pool: PgPool,
    interval: Duration,
}

impl Sweeper {
    /// A sweeper on `pool`, sweeping every `interval`.
    pub fn new(pool: PgPool, interval: Duration) -> Self {
        Self { pool, interval }
    }

    /// Sweeps until `shutdown`; a failed sweep is logged and retried at the next tick.
    pub async fn run(self, shutdown: Shutdown) {
        shutdown
            .every(self.interval, || async {
                match self.sweep().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "released expired reservations"),
                    Err(e) => tracing::warn!(error = %e, "reservation sweep failed"),
                }
            })
            .await;
        tracing::info!("reservation sweeper stopped");
    }

    /// Expires everything due, a batch per transaction; returns how many.
    pub async fn sweep(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get().await?;
        let mut total = 0;
        loop {
            let n = conn
                .transaction::<_, diesel::result::Error, _>(async |c| {
                    let n = repo::expire_due(c, BATCH).await?;
                    // Reservations write their events without NOTIFY; a sweep is rare, so it notifies.
                    if n > 0 {
                        platform::events::notify(c).await?;
                    }
                    Ok(n)
                })
                .await?;
            total += n;
            if i64::try_from(n).unwrap_or(0) < BATCH {
                return Ok(total);
            }
        }
    }
}
