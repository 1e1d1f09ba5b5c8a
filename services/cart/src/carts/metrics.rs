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
    /// Changes refused because the cart would hold more of a product than
    /// `CART_MAX_UNITS_PER_PRODUCT` (a hoarding signal), by owner kind.
    pub cap_hits: IntCounterVec,
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
        let cap_hits = IntCounterVec::new(
            Opts::new("cart_unit_cap_hits_total", "Changes refused by the per-cart, per-product unit cap"),
            &["owner"],
        )?;
        registry.register(Box::new(merges.clone()))?;
        registry.register(Box::new(cap_hits.clone()))?;
        Ok(Self { carts_created, lines_added, reservation_refusals, merges, cap_hits })
    }
}
