//! Inventory: stock reservations (internal API, expiry sweeper, order/payment event consumer)
//! and the price-and-availability look-up. See docs/catalog.md, "Catalog: inventory
//! reservations and bulk load".

pub mod api;
pub mod consumer;
pub mod lookup;
pub mod repo;
pub mod sweeper;

use actix_web::web;

/// Registers the `/internal/v1` inventory routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/internal/v1/reservations", web::post().to(api::reserve))
        .route("/internal/v1/reservations/release-by-key", web::post().to(api::release_by_key))
        .route("/internal/v1/reservations/{id}", web::get().to(api::show))
        .route("/internal/v1/reservations/{id}/extend", web::post().to(api::extend))
        .route("/internal/v1/reservations/{id}/resize", web::post().to(api::resize))
        .route("/internal/v1/reservations/{id}/release", web::post().to(api::release))
        .route("/internal/v1/reservations/{id}/commit", web::post().to(api::commit))
        .route("/internal/v1/products/lookup", web::post().to(lookup::lookup));
}
