//! Inventory: stock reservations (internal API, expiry sweeper, order/payment event consumer)
//! and the price-and-availability look-up. See docs/catalog.md, "Catalog: inventory
//! reservations and bulk load".

pub mod api;
pub mod consumer;
pub mod lookup;
pub mod repo;
pub mod sweeper;

use platform::openapi::Api;

/// The `/internal/v1` inventory routes (method and path in each handler's `utoipa::path`).
pub fn api() -> Api {
    Api::new(crate::SERVICE, "")
        .op(api::__path_reserve, api::reserve)
        .op(api::__path_release_by_key, api::release_by_key)
        .op(api::__path_show, api::show)
        .op(api::__path_extend_many, api::extend_many)
        .op(api::__path_extend, api::extend)
        .op(api::__path_resize, api::resize)
        .op(api::__path_release, api::release)
        .op(api::__path_commit, api::commit)
        .op(lookup::__path_lookup, lookup::lookup)
}
