//! The sweeper: expires checkouts unpaid after `CHECKOUT_SESSION_TIMEOUT` and reconciles
//! payments stuck in `processing` by asking Stripe (a lost webhook). Each order is handled under
//! its row lock taken with `SKIP LOCKED`, so several replicas share the work without overlap.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::events::{OrderClosed, OrderExpired, PaymentFacts};
use domain::ids::OrderId;
use platform::shutdown::Shutdown;

use crate::checkout::idempotency;
use crate::clients::stripe::{CancelError, Intent};
use crate::orders::repo::{self as orders, OrderRow, status};
use crate::payments::apply::{self, Change};
use crate::state::AppState;

/// Most orders one pass handles of each kind (the rest wait for the next tick).
const BATCH: usize = 100;

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
    /// Orders whose payment was settled from Stripe's answer.
    pub reconciled: usize,
}

/// One pass: expire what is due, reconcile what is stuck, purge old idempotency keys.
pub async fn sweep_once(state: &AppState) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    for _ in 0..BATCH {
        match expire_one(state).await? {
            Step::Done => swept.expired += 1,
            Step::Other => {}
            Step::Empty => break,
        }
    }
    for _ in 0..BATCH {
        match reconcile_one(state).await? {
            Step::Done => swept.reconciled += 1,
            Step::Other => {}
            Step::Empty => break,
        }
    }
    let mut conn = state.pool.get().await?;
    idempotency::purge(&mut conn).await?;
    Ok(swept)
}

enum Step {
    Done,
    Other,
    Empty,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Locks one due row (skipping rows another replica holds) and loads it.
async fn claim(
    conn: &mut AsyncPgConnection,
    sql: &str,
    seconds: f64,
) -> diesel::QueryResult<Option<OrderRow>> {
    let ids: Vec<Id> = diesel::sql_query(sql).bind::<Double, _>(seconds).load(conn).await?;
    match ids.into_iter().next() {
        Some(row) => orders::by_id(conn, OrderId(row.id)).await,
        None => Ok(None),
    }
}

const DUE: &str = "SELECT id FROM orders WHERE status = 'pending_payment' \
    AND payment_status IN ('pending', 'failed') AND expires_at <= now() - make_interval(secs => $1) \
    ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED";

const STUCK: &str = "SELECT id FROM orders WHERE payment_status = 'processing' \
    AND updated_at <= now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED";

fn facts(order: &OrderRow, intent: &Intent) -> anyhow::Result<PaymentFacts> {
    Ok(PaymentFacts {
        order_id: Some(order.order_id()),
        payment_intent_id: intent.id.clone(),
        amount_cents: if intent.amount_received > 0 { intent.amount_received } else { intent.amount },
        currency: order.currency()?,
        stripe_event_id: format!("reconcile:{}", intent.id),
        stripe_created: chrono::Utc::now().timestamp(),
    })
}

/// What Stripe's status of an intent means for the order, if anything.
fn change_for(stripe_status: &str) -> Option<Change> {
    match stripe_status {
        "succeeded" => Some(Change::Succeeded),
        "canceled" => Some(Change::Canceled),
        "requires_payment_method" => Some(Change::Failed),
        "processing" => Some(Change::Processing),
        _ => None,
    }
}

async fn expire_one(state: &AppState) -> anyhow::Result<Step> {
    let mut conn = state.pool.get().await?;
    let step = conn
        .transaction::<_, anyhow::Error, _>(async |c| {
            let Some(order) = claim(c, DUE, 0.0).await? else { return Ok(Step::Empty) };
            if let Some(pi) = order.payment_intent_id.clone() {
                match state.stripe.cancel(&pi).await {
                    Ok(()) => {}
                    Err(CancelError::TooLate(_)) => {
                        // The money moved after all (a lost webhook): settle from Stripe's answer.
                        let intent = state.stripe.retrieve(&pi).await?;
                        if let Some(change) = change_for(&intent.status) {
                            apply::apply(
                                state,
                                c,
                                &order,
                                &facts(&order, &intent)?,
                                change,
                                "reconcile.expiry",
                                None,
                            )
                            .await
                            .map_err(|e| anyhow::anyhow!(e.message().to_owned()))?;
                        }
                        // Whatever happened, this row must not come back at the head of the queue
                        // before Stripe has moved on.
                        diesel::sql_query(
                            "UPDATE orders SET expires_at = now() + interval '5 minutes' \
                             WHERE id = $1 AND status = 'pending_payment'",
                        )
                        .bind::<BigInt, _>(order.id)
                        .execute(c)
                        .await?;
                        state.metrics.sweep("reconciled_at_expiry");
                        return Ok(Step::Other);
                    }
                    Err(CancelError::Unavailable(u)) => return Err(u.into()),
                }
            }
            // No intent id means the checkout never answered, so no one holds a client secret.
            if orders::close(c, order.order_id(), status::EXPIRED).await? {
                let items = orders::items(c, order.order_id()).await?;
                let body = OrderClosed {
                    order_id: order.order_id(),
                    order_number: order.number()?,
                    reason: "checkout_session_timeout".to_owned(),
                    reservation_ids: orders::reservation_ids(&items),
                    cart_id: order.cart(),
                };
                orders::emit_notify(c, &OrderExpired(body)).await?;
            }
            state.metrics.sweep("expired");
            Ok(Step::Done)
        })
        .await?;
    Ok(step)
}

async fn reconcile_one(state: &AppState) -> anyhow::Result<Step> {
    let mut conn = state.pool.get().await?;
    let after = state.settings.reconcile_after.as_secs_f64();
    let step = conn
        .transaction::<_, anyhow::Error, _>(async |c| {
            let Some(order) = claim(c, STUCK, after).await? else { return Ok(Step::Empty) };
            let Some(pi) = order.payment_intent_id.clone() else { return Ok(Step::Other) };
            let intent = state.stripe.retrieve(&pi).await?;
            match change_for(&intent.status) {
                Some(change) if change != Change::Processing => {
                    apply::apply(
                        state,
                        c,
                        &order,
                        &facts(&order, &intent)?,
                        change,
                        "reconcile.processing",
                        None,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message().to_owned()))?;
                    state.metrics.sweep("reconciled");
                    Ok(Step::Done)
                }
                _ => {
                    // Still processing at Stripe: look again after another interval.
                    diesel::sql_query("UPDATE orders SET updated_at = now() WHERE id = $1")
                        .bind::<BigInt, _>(order.id)
                        .execute(c)
                        .await?;
                    Ok(Step::Other)
                }
            }
        })
        .await?;
    Ok(step)
}
