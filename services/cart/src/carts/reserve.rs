//! Holding stock for cart lines through catalog's reservation API.
//!
//! Each line holds at most one reservation, sized to its quantity: a new line reserves, a
//! changed quantity resizes (only the difference comes from stock), a removed line releases.
//! When catalog gives no answer in time the outcome is unknown: a new line is not saved and the
//! reservation catalog may have made for it is released by its key (best effort; it expires after
//! `INVENTORY_RESERVATION_TTL` otherwise), and an existing line is marked `needs_sync`, so the
//! next read checks it against catalog. Every reserve carries a key derived from the line and its
//! quantity: a retry of an add that got no answer finds the reservation the first attempt made
//! instead of holding the stock twice (a new line's id is derived from the cart's version, so a
//! client's retry of the same add makes the same line).

use chrono::Utc;
use domain::ids::CartId;
use domain::inventory::{ReserveRequest, ResizeRequest};
use platform::clients::catalog::{CatalogClient, CatalogError};

use super::model::{Cart, Holder, Line};

/// The key of a line's reserve request for `quantity` units: the same line and quantity always
/// ask for the same reservation (while it is active).
pub fn line_key(cart_id: CartId, line_id: uuid::Uuid, quantity: i32) -> String {
    format!("cart:{cart_id}:line:{line_id}:q{quantity}")
}

/// Why a line could not get its units.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    /// Not enough stock; `available` units could still be had.
    #[error("insufficient stock ({available} available)")]
    Insufficient {
        /// Units available.
        available: i64,
    },
    /// Catalog does not know the product (any more).
    #[error("unknown product")]
    UnknownProduct,
    /// Catalog did not answer, or answered in a way that means a bug.
    #[error("catalog: {0}")]
    Unavailable(String),
}

impl From<CatalogError> for HoldError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Insufficient { available } => HoldError::Insufficient { available },
            CatalogError::NotFound => HoldError::UnknownProduct,
            other => HoldError::Unavailable(other.to_string()),
        }
    }
}

/// Reservations for lines.
#[derive(Clone)]
pub struct Reserver {
    client: CatalogClient,
    enabled: bool,
    ttl_minutes: i64,
    guest_ttl_minutes: i64,
}

impl Reserver {
    /// `enabled` is `INVENTORY_RESERVE_ON_ADD`; `ttl_minutes` is `INVENTORY_RESERVATION_TTL`,
    /// `guest_ttl_minutes` `INVENTORY_GUEST_RESERVATION_TTL`.
    pub fn new(client: CatalogClient, enabled: bool, ttl_minutes: i64, guest_ttl_minutes: i64) -> Self {
        Self { client, enabled, ttl_minutes, guest_ttl_minutes }
    }

    fn ttl(&self, holder: Holder) -> i64 {
        if holder.guest { self.guest_ttl_minutes.min(self.ttl_minutes) } else { self.ttl_minutes }
    }

    /// Whether lines hold reservations at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Makes `line` hold `quantity` units and sets its quantity; on error the line's quantity is
    /// unchanged (and `needs_sync` is set when catalog's state became unknown).
    pub async fn hold(&self, holder: Holder, line: &mut Line, quantity: i32) -> Result<(), HoldError> {
        let cart_id = holder.cart_id;
        let ttl_minutes = self.ttl(holder);
        if !self.enabled {
            line.quantity = quantity;
            return Ok(());
        }
        if let Some(id) = line.reservation_id {
            let req = ResizeRequest { quantity: i64::from(quantity), ttl_minutes: Some(ttl_minutes) };
            match self.client.resize(id, &req).await {
                Ok(r) => {
                    line.quantity = quantity;
                    line.reserved_until = Some(r.expires_at);
                    line.needs_sync = false;
                    line.unavailable = None;
                    return Ok(());
                }
                // Lapsed, released or committed: reserve afresh below.
                Err(CatalogError::NotActive | CatalogError::NotFound) => line.clear_reservation(),
                Err(e @ CatalogError::Unavailable(_)) => {
                    line.needs_sync = true;
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        let key = line_key(cart_id, line.id, quantity);
        let req = ReserveRequest {
            product_id: line.product_id,
            quantity: i64::from(quantity),
            cart_id: Some(cart_id),
            order_id: None,
            ttl_minutes: Some(ttl_minutes),
            idempotency_key: Some(key.clone()),
        };
        let r = match self.client.reserve(&req).await {
            Ok(r) => r,
            Err(e @ CatalogError::Unavailable(_)) => {
                // No answer: catalog may have made it. Give it back now, best effort; a retry
                // with the same key would find it otherwise, and it lapses by itself anyway.
                if let Err(release) = self.client.release_by_key(&key).await {
                    tracing::warn!(error = %release, "could not release an unanswered reservation; it lapses by itself");
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        line.quantity = quantity;
        line.reservation_id = Some(r.id);
        line.reserved_until = Some(r.expires_at);
        line.needs_sync = false;
        line.unavailable = None;
        Ok(())
    }

    /// Gives a line's units back. Already released, expired or unknown counts as done.
    pub async fn release(&self, line: &mut Line) -> Result<(), HoldError> {
        let Some(id) = line.reservation_id else { return Ok(()) };
        match self.client.release(id).await {
            Ok(_) | Err(CatalogError::NotFound | CatalogError::NotActive) => {
                line.clear_reservation();
                Ok(())
            }
            Err(e) => Err(HoldError::Unavailable(e.to_string())),
        }
    }

    /// Re-holds the lines whose reservation lapsed or whose state is unknown: re-reserved when
    /// stock allows, else flagged `unavailable` with what is left. Stops quietly at the first
    /// line catalog does not answer for. Returns whether anything changed.
    pub async fn refresh(&self, cart: &mut Cart) -> bool {
        if !self.enabled {
            return false;
        }
        let now = Utc::now();
        let holder = cart.holder();
        let mut changed = false;
        for line in &mut cart.lines {
            if line.is_reserved(now) {
                continue;
            }
            if let (true, Some(id)) = (line.needs_sync, line.reservation_id) {
                // A resize that got no answer: ask what catalog holds, then hold the line's quantity.
                match self.client.reservation(id).await {
                    Ok(r) if r.status == domain::inventory::ReservationStatus::Active => {}
                    Ok(_) | Err(CatalogError::NotFound) => line.clear_reservation(),
                    Err(_) => break,
                }
            }
            let before = line.clone();
            let quantity = line.quantity;
            match self.hold(holder, line, quantity).await {
                Ok(()) => {}
                Err(HoldError::Insufficient { available }) => {
                    line.clear_reservation();
                    line.unavailable = Some(available);
                }
                Err(HoldError::UnknownProduct) => {
                    line.clear_reservation();
                    line.unavailable = Some(0);
                }
                Err(HoldError::Unavailable(_)) => {
                    changed |= *line != before;
                    break;
                }
            }
            changed |= *line != before;
        }
        changed
    }

    /// Whether a read should try [`Reserver::refresh`].
    pub fn needs_refresh(&self, cart: &Cart) -> bool {
        let now = Utc::now();
        self.enabled && cart.lines.iter().any(|l| !l.is_reserved(now))
    }
}
