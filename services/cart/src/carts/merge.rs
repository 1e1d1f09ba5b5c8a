//! Guest → customer merge, on the first signed-in request that still carries a guest token.
//!
//! No customer cart yet: the guest cart becomes the customer's (same id, now in PostgreSQL).
//! Otherwise each guest line joins the customer's cart: the same item grows (up to 99 units,
//! the guest's reservation released first so the customer's can grow into its units), a new
//! item moves over with its reservation, and lines beyond the 100-line limit are dropped and
//! released. The guest cart is gone afterwards. If catalog stops answering halfway, both carts
//! are saved as they stand (every line still matches its reservation) and the request is 503;
//! the next signed-in request with the token finishes the merge.

use chrono::Utc;
use domain::ids::CartId;

use super::errors::CartError;
use super::model::{Cart, MergeStep, Owner, merge_step};
use super::reserve::HoldError;
use crate::state::AppState;

/// A merge that happened: requests for `guest` now go to `into`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    /// The guest cart's id.
    pub guest: CartId,
    /// The customer's cart it went into (the same id when the guest cart was adopted).
    pub into: CartId,
}

impl Merged {
    /// Where a request for `id` should go.
    pub fn redirect(merged: Option<Merged>, id: CartId) -> CartId {
        match merged {
            Some(m) if m.guest == id => m.into,
            _ => id,
        }
    }
}

/// Merges the guest cart `raw_token` opens into customer `sub`'s cart, if there is one to merge.
pub async fn merge_guest(state: &AppState, sub: &str, raw_token: &str) -> Result<Option<Merged>, CartError> {
    let hash = platform::token::hash_hex(raw_token);
    let Some(guest) = state.store.load_by_token_hash(&hash).await? else { return Ok(None) };
    let mutex = state.store.lock(guest.id).await?;
    let result = merge_locked(state, sub, &hash, guest.id).await;
    mutex.release().await;
    result
}

async fn merge_locked(
    state: &AppState,
    sub: &str,
    hash: &str,
    guest_id: CartId,
) -> Result<Option<Merged>, CartError> {
    let Some(mut guest) = state.store.load(guest_id).await? else { return Ok(None) };
    if guest.owner != Owner::Guest(hash.to_owned()) || guest.locked_at(Utc::now()).is_some() {
        // Gone meanwhile, or a guest checkout is running: leave it alone.
        return Ok(None);
    }
    let Some(customer) = state.store.load_by_customer(sub).await? else {
        guest.owner = Owner::Customer(sub.to_owned());
        state.store.save(&mut guest, &[]).await?;
        state.store.forget_token(hash).await?;
        state.metrics.merges.inc();
        return Ok(Some(Merged { guest: guest_id, into: guest_id }));
    };
    let mutex = state.store.lock(customer.id).await?;
    let result = merge_into(state, &mut guest, customer.id).await;
    mutex.release().await;
    result
}

async fn merge_into(
    state: &AppState,
    guest: &mut Cart,
    customer_id: CartId,
) -> Result<Option<Merged>, CartError> {
    let Some(mut customer) = state.store.load(customer_id).await? else { return Ok(None) };
    if customer.locked_at(Utc::now()).is_some() {
        return Ok(None);
    }
    let mut failure: Option<HoldError> = None;
    while let Some(first) = guest.lines.first() {
        let mut gline = first.clone();
        match merge_step(&customer, &gline) {
            MergeStep::Grow { index, quantity } => {
                let holder = customer.holder();
                if let Err(e) = state.reserver.release(&mut gline).await {
                    failure = Some(e);
                    break;
                }
                let line = &mut customer.lines[index];
                match state.reserver.hold(holder, line, quantity).await {
                    Err(HoldError::Insufficient { available }) if available > 0 => {
                        // Add what is left rather than nothing.
                        let reachable =
                            line.quantity.saturating_add(i32::try_from(available).unwrap_or(i32::MAX));
                        if let Err(HoldError::Unavailable(d)) =
                            state.reserver.hold(holder, line, reachable.min(quantity)).await
                        {
                            failure = Some(HoldError::Unavailable(d));
                        }
                    }
                    Ok(()) | Err(HoldError::Insufficient { .. } | HoldError::UnknownProduct) => {}
                    Err(e) => failure = Some(e),
                }
                if failure.is_some() {
                    // The guest's units were given back: keep the line, without its reservation.
                    if let Some(l) = guest.lines.first_mut() {
                        l.clear_reservation();
                    }
                    break;
                }
            }
            MergeStep::Move => customer.lines.push(gline),
            MergeStep::Drop => {
                if let Err(e) = state.reserver.release(&mut gline).await {
                    failure = Some(e);
                    break;
                }
            }
        }
        guest.lines.remove(0);
    }
    state.store.save(&mut customer, &[]).await?;
    if let Some(e) = failure {
        state.store.save(guest, &[]).await?;
        return Err(e.into());
    }
    state.store.delete(guest).await?;
    state.metrics.merges.inc();
    Ok(Some(Merged { guest: guest.id, into: customer.id }))
}
