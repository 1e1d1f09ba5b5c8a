//! The payment sync: an order's payment is read from Stripe's objects and the order brought in
//! line with them (ADR 0071). Events only ask for a sync; so do the sweeper, `order reconcile`
//! and an admin refund. One pass:
//!
//! 1. read the order (a pooled connection, released at once);
//! 2. read Stripe: the PaymentIntent, its latest charge, its disputes (no connection held);
//! 3. derive the ledger and the verdict (`domain::order::settle`) and, when the money is to be
//!    kept, hold the stock at catalog (no connection held);
//! 4. one transaction under the order's row lock: the ledger lines, the money columns, the
//!    order's decision (`order::decide`: pay, close, flag, refund) and its events, an audit line
//!    per changed field;
//! 5. after the commit: release reservations not used, make a decided automatic refund at
//!    Stripe (idempotency key per order), and go round again so the refund is in the ledger.

pub mod repo;
pub mod stock;
pub mod syncer;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::events::{OrderDisputed, OrderPaid, OrderRefunded};
use domain::ids::OrderId;
use domain::order::{DisputeOutcome, Settlement, StripeView, settle};
use uuid::Uuid;

use self::repo::LedgerLine;
use super::repo::{self as payments, History};
use crate::clients::stripe::RefundError;
use crate::order::{self, Current, Decision, Lifecycle, Stock, close::close_locked};
use crate::orders::repo::{self as orders, OrderRow};
use crate::state::AppState;

/// Who asked for the sync (kept in the history and the audit lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A `payment.*` event.
    Event,
    /// The sweeper (expiry found the money moved; stuck or not recently compared).
    Sweeper,
    /// `order reconcile`.
    Reconcile,
    /// An admin refund.
    Admin,
}

impl Origin {
    /// The spelling in history and audit rows.
    pub const fn as_str(self) -> &'static str {
        match self {
            Origin::Event => "event",
            Origin::Sweeper => "sweeper",
            Origin::Reconcile => "reconcile",
            Origin::Admin => "admin",
        }
    }
}

/// Why a sync did not finish; the syncer tries again later.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Stripe, catalog or the database failed.
    #[error("{0}")]
    Unavailable(String),
    /// What Stripe answered is older than what the order holds (a read raced a newer one).
    #[error("Stripe's answer is older than the order's record")]
    Stale,
}

impl From<diesel::result::Error> for SyncError {
    fn from(e: diesel::result::Error) -> Self {
        SyncError::Unavailable(e.to_string())
    }
}

impl SyncError {
    fn of(e: impl std::fmt::Display) -> Self {
        SyncError::Unavailable(e.to_string())
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    /// Fields changed, as `field: before -> after` (empty when the order already agreed).
    pub repairs: Vec<String>,
    /// The order's attention reason, when it needs a person.
    pub attention: Option<String>,
    /// The payment status after the sync.
    pub payment_status: String,
}

/// Settles one order from Stripe's objects (see the module doc).
pub async fn sync(state: &AppState, id: OrderId, origin: Origin) -> Result<Synced, SyncError> {
    let mut synced = Synced::default();
    // Rounds: a stock hold needed, or an automatic refund made, sends the sync round once more.
    for _ in 0..4 {
        let (row, items, refund) = {
            let mut conn = state.pool.get().await.map_err(SyncError::of)?;
            let Some(row) = orders::by_id(&mut conn, id).await.map_err(SyncError::of)? else {
                return Ok(synced);
            };
            let items = orders::items(&mut conn, id).await.map_err(SyncError::of)?;
            let refund = repo::auto_refund(&mut conn, id).await.map_err(SyncError::of)?;
            (row, items, refund)
        };
        let Some(pi) = row.payment_intent_id.clone() else {
            synced.payment_status.clone_from(&row.payment_status);
            return Ok(synced);
        };
        // A decided automatic refund not yet confirmed by Stripe is made first.
        if let Some((amount, status)) = &refund
            && status == "pending"
        {
            auto_refund(state, id, &pi, *amount).await?;
            continue;
        }
        let view = state.stripe.view(&pi).await.map_err(SyncError::of)?;
        let total = row.totals().map_err(SyncError::of)?.total();
        let settlement = settle(total, &view);
        let current = current_of(&row, refund.is_some())?;
        if order::is_stale(&current, &settlement) {
            return Err(SyncError::Stale);
        }
        let held = if order::needs_stock(&current, &settlement) {
            Some(stock::hold(state, id, &items).await.map_err(SyncError::of)?)
        } else {
            None
        };
        let stock_outcome = held.as_ref().map_or(Stock::NotAsked, |h| h.stock.clone());
        let mut conn = state.pool.get().await.map_err(SyncError::of)?;
        let applied = conn
            .transaction::<_, SyncError, _>(async |c| {
                apply(state, c, id, &view, &settlement, &stock_outcome, held.as_ref(), origin).await
            })
            .await;
        drop(conn);
        let mut applied = match applied {
            Ok(a) => a,
            Err(e) => {
                if let Some(h) = &held {
                    stock::release(state, stock::replaced_ids(&h.replaced)).await;
                }
                return Err(e);
            }
        };
        state.wake_relay();
        if !applied.unused.is_empty() {
            stock::release(state, std::mem::take(&mut applied.unused)).await;
        }
        synced.repairs.extend(applied.repairs);
        synced.attention = applied.attention;
        settlement.status.as_str().clone_into(&mut synced.payment_status);
        if applied.again {
            continue;
        }
        return Ok(synced);
    }
    Err(SyncError::Unavailable("the order did not settle in four rounds".to_owned()))
}

fn current_of(row: &OrderRow, auto_refund_requested: bool) -> Result<Current, SyncError> {
    Ok(Current {
        lifecycle: row.status.parse::<Lifecycle>().map_err(SyncError::Unavailable)?,
        payment: row.payment().map_err(SyncError::of)?,
        amount_paid_cents: row.amount_paid_cents,
        amount_refunded_cents: row.amount_refunded_cents,
        auto_refund_requested,
    })
}

/// What the transaction did that the caller carries on with.
struct Applied {
    /// Reservations held for a payment the order did not take: released after the commit.
    unused: Vec<Uuid>,
    repairs: Vec<String>,
    attention: Option<String>,
    /// Go round again (stock needed, or a refund decided).
    again: bool,
}

#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
async fn apply(
    state: &AppState,
    c: &mut AsyncPgConnection,
    id: OrderId,
    view: &StripeView,
    s: &Settlement,
    stock: &Stock,
    held: Option<&stock::Held>,
    origin: Origin,
) -> Result<Applied, SyncError> {
    let locked = orders::by_id_for_update(c, id).await.map_err(SyncError::of)?.ok_or(SyncError::Stale)?;
    let refund = repo::auto_refund(c, id).await.map_err(SyncError::of)?;
    let current = current_of(&locked, refund.is_some())?;
    if order::is_stale(&current, s) {
        return Err(SyncError::Stale);
    }
    let decision: Decision = order::decide(&current, s, stock);
    let mut applied = Applied { unused: Vec::new(), repairs: Vec::new(), attention: None, again: false };
    if decision.needs_stock {
        // The order changed between the read and the lock: hold the stock and come back.
        applied.unused = held.map(|h| stock::replaced_ids(&h.replaced)).unwrap_or_default();
        applied.again = true;
        return Ok(applied);
    }
    let pi = view.payment_intent_id.as_str();
    let currency = view.currency.as_str();
    // 1. The ledger, as Stripe shows it.
    if let Some(charge) = view.charge_id.as_deref() {
        for (kind, amount) in [("captured", s.captured_cents), ("refunded", s.refunded_cents)] {
            if amount > 0 {
                let line = LedgerLine { kind, object: charge, amount, status: None };
                repo::upsert_ledger(c, id, pi, currency, &line).await.map_err(SyncError::of)?;
            }
        }
    }
    let number = locked.number().map_err(SyncError::of)?;
    let order_currency = locked.currency().map_err(SyncError::of)?;
    for d in &view.disputes {
        let kind = if d.outcome() == DisputeOutcome::Won { "reversed" } else { "disputed" };
        let line = LedgerLine { kind, object: &d.id, amount: d.amount_cents, status: Some(&d.status) };
        repo::upsert_ledger(c, id, pi, currency, &line).await.map_err(SyncError::of)?;
        if repo::upsert_dispute(c, id, pi, currency, d).await.map_err(SyncError::of)?
            && d.outcome() == DisputeOutcome::Open
        {
            let event = OrderDisputed {
                order_id: id,
                order_number: number.clone(),
                dispute_id: d.id.clone(),
                amount_cents: d.amount_cents,
                currency: order_currency,
            };
            orders::emit_notify(c, &event).await.map_err(SyncError::of)?;
        }
    }
    // 2. The money columns, with an audit line for each that moved.
    let changes = [
        ("payment_status", locked.payment_status.clone(), s.status.as_str().to_owned()),
        ("amount_paid_cents", locked.amount_paid_cents.to_string(), s.captured_cents.to_string()),
        ("amount_refunded_cents", locked.amount_refunded_cents.to_string(), s.refunded_cents.to_string()),
        ("disputed", locked.disputed.to_string(), s.dispute_open.to_string()),
    ];
    for (field, before, after) in &changes {
        if before != after {
            repo::repair(c, id, origin.as_str(), field, before, after).await.map_err(SyncError::of)?;
            applied.repairs.push(format!("{field}: {before} -> {after}"));
        }
    }
    repo::set_money(c, id, s.status, s.captured_cents, s.refunded_cents, s.dispute_open)
        .await
        .map_err(SyncError::of)?;
    if locked.payment_status != s.status.as_str() {
        let note = format!(
            "from Stripe ({origin}): captured {}, refunded {}",
            s.captured_cents,
            s.refunded_cents,
            origin = origin.as_str()
        );
        let h = History {
            order: id,
            payment_intent_id: pi,
            event_type: sync_event_type(origin),
            stripe_event_id: None,
            from: &locked.payment_status,
            to: s.status.as_str(),
            note: Some(&note),
        };
        payments::record(c, &h).await.map_err(SyncError::of)?;
    }
    if s.refunded_cents > locked.amount_refunded_cents {
        let event = OrderRefunded {
            order_id: id,
            order_number: number.clone(),
            amount_cents: s.refunded_cents - locked.amount_refunded_cents,
            currency: order_currency,
            fully: s.refunded_cents >= s.captured_cents,
        };
        orders::emit_notify(c, &event).await.map_err(SyncError::of)?;
    }
    // 3. The order's decision.
    if let Some(reservations) = decision.pay {
        if let Some(h) = held {
            for (product, old, new) in &h.replaced {
                payments::set_reservation(c, id, *old, *product, *new).await.map_err(SyncError::of)?;
            }
        }
        repo::set_paid(c, id).await.map_err(SyncError::of)?;
        let paid = OrderPaid {
            order_id: id,
            order_number: number.clone(),
            payment_intent_id: pi.to_owned(),
            amount_cents: s.captured_cents,
            currency: order_currency,
            reservation_ids: reservations,
            cart_id: locked.cart(),
        };
        orders::emit_notify(c, &paid).await.map_err(SyncError::of)?;
        applied.repairs.push(format!("status: {} -> paid", locked.status));
    } else {
        // Re-reserved but not used; merely extended ones lapse when the extension does.
        applied.unused = held.map(|h| stock::replaced_ids(&h.replaced)).unwrap_or_default();
    }
    if let Some(reason) = decision.close
        && close_locked(c, &locked, reason).await.map_err(SyncError::of)?
    {
        applied.repairs.push(format!("status: {} -> {}", locked.status, reason.closes_to()));
    }
    if let Some(reason) = &decision.attention {
        if locked.attention_reason.as_deref() != Some(reason.as_str()) {
            orders::flag_attention(c, id, reason).await.map_err(SyncError::of)?;
            tracing::error!(order_id = %id, payment_intent = pi, reason = %reason, "order needs attention");
            state.metrics.payments.attention(mismatch_label(s));
        }
        applied.attention = Some(reason.clone());
    } else {
        applied.attention.clone_from(&locked.attention_reason);
    }
    if let Some(amount) = decision.auto_refund_cents.filter(|a| *a > 0) {
        let key = repo::auto_refund_key(id);
        payments::insert_refund(c, id, amount, Some("automatic"), &key, "system")
            .await
            .map_err(SyncError::of)?;
        applied.again = true;
    }
    Ok(applied)
}

fn mismatch_label(s: &Settlement) -> &'static str {
    match &s.verdict {
        domain::order::Verdict::Mismatch(m) => m.label(),
        _ => "stock_gone",
    }
}

fn sync_event_type(origin: Origin) -> &'static str {
    match origin {
        Origin::Event => "sync.event",
        Origin::Sweeper => "sync.sweeper",
        Origin::Reconcile => "sync.reconcile",
        Origin::Admin => "sync.admin",
    }
}

/// Makes the decided automatic refund at Stripe (its key makes a retry harmless) and records
/// Stripe's answer; the next round reads it back into the ledger.
async fn auto_refund(state: &AppState, id: OrderId, pi: &str, amount: i64) -> Result<(), SyncError> {
    let key = repo::auto_refund_key(id);
    let outcome = state.stripe.refund(pi, amount, &key).await;
    let mut conn = state.pool.get().await.map_err(SyncError::of)?;
    match outcome {
        Ok((refund_id, _)) => payments::finish_refund(&mut conn, id, &key, "succeeded", Some(&refund_id))
            .await
            .map_err(SyncError::of),
        Err(RefundError::Refused(m)) => {
            // Nothing left to refund (the merchant refunded already), or Stripe says no: a person looks.
            tracing::error!(order_id = %id, message = %m, "automatic refund refused: the order needs a person");
            payments::finish_refund(&mut conn, id, &key, "failed", None).await.map_err(SyncError::of)
        }
        Err(RefundError::Unavailable(u)) => Err(SyncError::of(u)),
    }
}
