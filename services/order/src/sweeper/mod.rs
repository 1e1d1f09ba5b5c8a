//! The sweeper: expires checkouts unpaid after `CHECKOUT_SESSION_TIMEOUT`, and keeps orders in
//! line with Stripe when webhooks are lost: payments stuck in `processing`, and every recent
//! order not compared with Stripe for an hour, are queued for the payment sync (ADR 0071).
//! No row lock or pooled connection is held across a Stripe call: expiry cancels the
//! PaymentIntent first, then closes the order in its own transaction.

pub mod metrics;
pub mod repo;

use domain::ids::OrderId;
use platform::shutdown::Shutdown;

use crate::checkout::idempotency;
use crate::order::CloseReason;
use crate::order::close::{CloseError, close_unpaid};
use crate::orders::repo as orders;
use crate::payments::sync::repo as syncs;
use crate::state::AppState;

/// Most orders one pass handles of each kind (the rest wait for the next tick).
const BATCH: i64 = 100;
/// Recent orders (by creation) the rolling reconciliation compares with Stripe.
const RECONCILE_WINDOW_SECONDS: f64 = 72.0 * 3600.0;
/// How often each recent order is compared with Stripe.
const RECONCILE_EVERY_SECONDS: f64 = 3600.0;

/// Runs passes every `ORDER_SWEEP_INTERVAL_SECONDS` until shutdown.
pub async fn run(state: AppState, shutdown: Shutdown) {
    shutdown
        .every(state.settings.sweep_interval, || async {
            if let Err(e) = sweep_once(&state).await {
                tracing::warn!(error = %e, "order sweep failed; next tick retries");
            }
        })
        .await;
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Checkouts expired.
    pub expired: usize,
    /// Orders queued for a sync with Stripe (money moved at expiry, stuck, or due a comparison).
    pub reconciled: usize,
}

/// One pass: expire what is due, queue what must be compared with Stripe, purge old keys.
pub async fn sweep_once(state: &AppState) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    let due = {
        let mut conn = state.pool.get().await?;
        repo::due(&mut conn, BATCH).await?
    };
    for id in due {
        match expire(state, id).await? {
            Expiry::Expired => swept.expired += 1,
            Expiry::MoneyMoved => swept.reconciled += 1,
            Expiry::Skipped => {}
        }
    }
    let mut conn = state.pool.get().await?;
    let after = state.settings.reconcile_after.as_secs_f64();
    for id in repo::stuck(&mut conn, after, BATCH).await? {
        syncs::request(&mut conn, OrderId(id), "sweeper.processing").await?;
        state.metrics.sweeper.record("reconciled");
        swept.reconciled += 1;
    }
    let rolling = syncs::request_stale(
        &mut conn,
        RECONCILE_WINDOW_SECONDS,
        RECONCILE_EVERY_SECONDS,
        BATCH,
        "sweeper.rolling",
    )
    .await?;
    swept.reconciled += rolling;
    idempotency::repo::purge(&mut conn).await?;
    Ok(swept)
}

enum Expiry {
    Expired,
    MoneyMoved,
    Skipped,
}

/// Expires one order: cancel at Stripe, then close. If Stripe says the money moved (a lost
/// webhook), the order is queued for a sync instead and looked at again in five minutes.
async fn expire(state: &AppState, id: i64) -> anyhow::Result<Expiry> {
    let Some(order) = orders::by_id(&mut *state.pool.get().await?, OrderId(id)).await? else {
        return Ok(Expiry::Skipped);
    };
    match close_unpaid(state, order, CloseReason::CheckoutTimeout).await {
        Ok(_) => {
            state.metrics.sweeper.record("expired");
            Ok(Expiry::Expired)
        }
        Err(CloseError::Conflict(why)) if why.starts_with("The payment is already") => {
            let mut conn = state.pool.get().await?;
            syncs::request(&mut conn, OrderId(id), "sweeper.expiry").await?;
            repo::postpone_expiry(&mut conn, OrderId(id)).await?;
            state.metrics.sweeper.record("reconciled_at_expiry");
            Ok(Expiry::MoneyMoved)
        }
        // Closed or paid meanwhile (another replica, a payment): nothing to do.
        Err(CloseError::Conflict(_)) => Ok(Expiry::Skipped),
        Err(CloseError::Unavailable(e)) => Err(anyhow::anyhow!(e)),
    }
}
