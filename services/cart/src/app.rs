//! The cart as the runner sees it: public and internal routes, the `cart.orders` consumer, and
//! catalog in its readiness.

use std::sync::Arc;

use actix_web::web;
use platform::clients::catalog::{CatalogCheck, CatalogClient};
use platform::http::Reported;
use platform::http::extract::BodyLimit;
use platform::openapi::{Api, Link};
use platform::service::{Resources, ServiceSpec};

use crate::carts::metrics::CartMetrics;
use crate::carts::prices::PriceBook;
use crate::carts::reserve::Reserver;
use crate::carts::store::{CartStore, Ttls};
use crate::config::{CartConfig, CartSettings};
use crate::orders::{self, OrderEvents};
use crate::state::AppState;
use crate::{INFO, carts, checkout};

/// Handler state from the cart's settings and the runner's resources (lazy: nothing connects yet).
pub fn state(settings: &CartSettings, res: &Resources) -> anyhow::Result<AppState> {
    let latency = CatalogClient::latency_histogram(&res.registry, "cart_catalog_call_seconds")?;
    let catalog =
        CatalogClient::new(&settings.catalog_url, res.base.internal_token.clone(), settings.catalog_timeout)?
            .with_latency(latency);
    let ttls = Ttls { guest: settings.guest_ttl, customer_cache: settings.cache_ttl };
    Ok(AppState {
        store: CartStore::new(res.redis.clone(), res.pool.clone(), ttls),
        prices: Arc::new(PriceBook::new(catalog.clone(), settings.price_cache)),
        reserver: Reserver::new(
            catalog.clone(),
            settings.reserve_on_add,
            settings.reservation_ttl_minutes,
            settings.guest_reservation_ttl_minutes,
        ),
        catalog,
        currency: res.base.currency,
        metrics: CartMetrics::register(&res.registry)?,
        max_units_per_product: settings.max_units_per_product,
    })
}

/// The cart's documented routes: each handler's `utoipa::path` names its method and path.
pub fn api() -> Api {
    Api::new(
        crate::SERVICE,
        "Guest and customer carts, their lines and reservations; the checkout lock order takes",
    )
    .merge(carts::api())
    .merge(checkout::api())
    .link(Link::to("create_cart", "201", "show_cart", GUEST))
    .link(Link::to("create_cart", "201", "add_cart_item", GUEST))
    .link(Link::to("create_cart", "201", "delete_cart", GUEST))
    .link(Link::to("add_cart_item", "201", "update_cart_item", LINE))
    .link(Link::to("add_cart_item", "201", "remove_cart_item", LINE))
    .link(Link::to("add_cart_item", "201", "show_cart", SAME_CART))
}

/// A new cart, opened with its token.
const GUEST: &[(&str, &str)] =
    &[("path.id", "$response.body#/id"), ("header.X-Cart-Token", "$response.body#/token")];
/// The same cart, with the token the request carried.
const SAME_CART: &[(&str, &str)] =
    &[("path.id", "$response.body#/id"), ("header.X-Cart-Token", "$request.header.X-Cart-Token")];
/// The line just added.
const LINE: &[(&str, &str)] = &[
    ("path.id", "$response.body#/id"),
    ("path.item_id", "$response.body#/items/0/id"),
    ("header.X-Cart-Token", "$request.header.X-Cart-Token"),
];

/// The public and internal routes (and `GET /openapi.json`), with `state` as app data. No cart
/// route reads more than [`carts::BODY_LIMIT`].
pub fn routes(state: AppState) -> impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static {
    let routes = api().with_state(state);
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(BodyLimit(carts::BODY_LIMIT));
        routes(cfg);
    }
}

/// The service from `state`: routes and the order-event consumer. Redis (the active carts) gates
/// `/ready`; catalog is reported there without gating it (reading a cart needs no catalog).
pub fn spec(state: AppState) -> ServiceSpec {
    let consumer = OrderEvents::new(state.store.clone());
    let catalog = Reported(CatalogCheck(state.catalog.clone()));
    ServiceSpec::new(&INFO)
        .routes(routes(state))
        .consumer(orders::options(""), consumer)
        .redis_required()
        .ready_check(catalog)
}

/// The service from configuration (what `cart serve` runs).
pub fn describe(config: &CartConfig, res: &Resources) -> anyhow::Result<ServiceSpec> {
    Ok(spec(state(&config.service, res)?))
}
