//! The syncer: a task of every `order serve` replica that takes requested syncs from
//! `payment_syncs` (with a lease, so replicas never sync one order at once), runs them a few at
//! a time, and backs off on failure. Woken by `NOTIFY` at the commit of a request, and by a
//! short poll when a notification was missed.

use std::sync::Arc;
use std::time::Duration;

use platform::shutdown::Shutdown;
use tokio::sync::Notify;

use super::repo::{self, Claimed};
use super::{Origin, SyncError, sync};
use crate::state::AppState;

/// Syncs taken at once by one replica.
const BATCH: i64 = 16;
/// Syncs run concurrently by one replica (each is a few Stripe and catalog calls).
const IN_FLIGHT: usize = 8;
/// Seconds a taken sync is reserved for this replica.
const LEASE_SECONDS: f64 = 60.0;
/// The poll that catches what a lost notification did not announce.
const POLL: Duration = Duration::from_secs(1);

/// Runs the syncer (and its `LISTEN` connection) until shutdown.
pub async fn run(state: AppState, database_url: String, schema: String, mut shutdown: Shutdown) {
    let wake = Arc::new(Notify::new());
    let listener = tokio::spawn(platform::events::listen(
        database_url,
        schema,
        repo::CHANNEL.to_owned(),
        Arc::clone(&wake),
        shutdown.clone(),
    ));
    while !shutdown.is_triggered() {
        let done = match pass(&state).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "payment sync pass failed");
                0
            }
        };
        if done > 0 {
            continue;
        }
        tokio::select! {
            () = shutdown.wait() => {}
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
    listener.abort();
}

/// Takes due syncs and runs them; the number taken.
pub async fn pass(state: &AppState) -> anyhow::Result<usize> {
    let claimed = {
        let mut conn = state.pool.get().await?;
        repo::claim(&mut conn, BATCH, LEASE_SECONDS).await?
    };
    let n = claimed.len();
    let mut running = tokio::task::JoinSet::new();
    for c in claimed {
        if running.len() >= IN_FLIGHT {
            running.join_next().await;
        }
        let state = state.clone();
        running.spawn(async move { run_one(&state, &c).await });
    }
    while running.join_next().await.is_some() {}
    Ok(n)
}

async fn run_one(state: &AppState, c: &Claimed) {
    let origin = if c.reason.starts_with("sweeper") {
        Origin::Sweeper
    } else if c.reason == "refund.admin" {
        Origin::Admin
    } else {
        Origin::Event
    };
    let outcome = sync(state, domain::ids::OrderId(c.order_id), origin).await;
    let recorded = async {
        let mut conn = state.pool.get().await?;
        match &outcome {
            Ok(_) => repo::finish(&mut conn, c).await?,
            Err(e) => {
                // 1 s doubling to 5 min: Stripe or catalog down, or a stale read to let settle.
                let delay = 2f64.powi(c.attempts.clamp(1, 9) - 1).min(300.0);
                repo::fail(&mut conn, c.order_id, delay, &e.to_string()).await?;
            }
        }
        anyhow::Ok(())
    }
    .await;
    let label = match &outcome {
        Ok(s) if s.repairs.is_empty() => "unchanged",
        Ok(_) => "changed",
        Err(SyncError::Stale) => "stale",
        Err(SyncError::Unavailable(_)) => "failed",
    };
    state.metrics.payments.sync(label);
    if let Err(e) = &outcome {
        tracing::info!(order_id = c.order_id, error = %e, attempts = c.attempts, "payment sync will be retried");
    }
    if let Err(e) = recorded {
        tracing::warn!(order_id = c.order_id, error = %e, "payment sync not recorded; its lease runs out and it is taken again");
    }
}
