//! The cart's own metrics (on the service registry, so `/metrics` shows them).

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

/// Counters of the cart API.
#[derive(Clone)]
pub struct CartMetrics {
    /// Carts created, by owner kind (`guest` / `customer`).
    pub carts_created: IntCounterVec,
    /// Lines added or grown.
    pub lines_added: IntCounter,
    /// Adds refused by catalog for lack of stock.
    pub reservation_refusals: IntCounter,
    /// Guest carts merged into customers' carts.
    pub merges: IntCounter,
}

impl CartMetrics {
    /// Registers the counters on `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let carts_created =
            IntCounterVec::new(Opts::new("cart_carts_created_total", "Carts created"), &["owner"])?;
        let lines_added = IntCounter::new("cart_lines_added_total", "Cart lines added or grown")?;
        let reservation_refusals = IntCounter::new(
            "cart_reservation_refusals_total",
            "Adds refused because catalog had too little stock",
        )?;
        let merges = IntCounter::new("cart_guest_merges_total", "Guest carts merged into customers' carts")?;
        registry.register(Box::new(carts_created.clone()))?;
        registry.register(Box::new(lines_added.clone()))?;
        registry.register(Box::new(reservation_refusals.clone()))?;
        registry.register(Box::new(merges.clone()))?;
        Ok(Self { carts_created, lines_added, reservation_refusals, merges })
    }
}
