//! The catalog as the runner sees it: its routes, its consumer, its sweeper.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use platform::db::{self, PoolOptions};
use platform::openapi::{Api, Link};
use platform::service::{Resources, ServiceSpec};

use crate::cache::{CacheTiming, PageCache};
use crate::config::CatalogConfig;
use crate::inventory::{self, consumer::ReservationEvents, sweeper::Sweeper};
use crate::state::AppState;
use crate::{INFO, SCHEMA, SERVICE, admin, listing, product_page};

/// The catalog's documented routes: each handler's `utoipa::path` names its method and path.
pub fn api() -> Api {
    Api::new(SERVICE, "Products: the storefront listing and page, the admin API, and inventory reservations")
        .op(listing::__path_list_products, listing::list_products)
        .op(product_page::__path_show_product, product_page::show_product)
        .op(admin::__path_create, admin::create)
        .op(admin::__path_update, admin::update)
        .op(admin::__path_delete, admin::delete)
        .op(admin::__path_stock, admin::stock)
        .merge(inventory::api())
        .link(Link::to(
            "list_products",
            "200",
            "show_product",
            &[("path.slug", "$response.body#/data/0/slug")],
        ))
        .link(Link::to("admin_create_product", "201", "admin_update_product", CREATED))
        .link(Link::to("admin_create_product", "201", "admin_set_stock", CREATED))
        .link(Link::to("admin_create_product", "201", "admin_delete_product", CREATED))
}

/// The product just created.
const CREATED: &[(&str, &str)] = &[("path.id", "$response.body#/data/id")];

/// The catalog's routes (and `GET /openapi.json`), with `state` as app data.
pub fn routes(state: AppState) -> impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static {
    api().with_state(state)
}

/// Handler state from configuration and the runner's resources (lazy: nothing connects yet).
pub fn state(config: &CatalogConfig, res: &Resources) -> anyhow::Result<AppState> {
    let read_pool = match &config.database_read_url {
        Some(url) => {
            let options = PoolOptions {
                max_size: config.base.db_pool_size,
                statement_timeout: config.base.db_statement_timeout,
                ..PoolOptions::default()
            };
            db::pool(url.expose(), SCHEMA, options)?
        }
        None => res.pool.clone(),
    };
    let ttl = Duration::from_secs(config.cache_ttl_secs);
    // Half the pool: page builds never take the connections writes and reservations need.
    let build_slots = usize::try_from(config.base.db_pool_size / 2).unwrap_or(1);
    let cache = PageCache::new(res.redis.clone(), CacheTiming::from_ttl(ttl), config.cache_ttl_secs > 0)
        .with_build_slots(build_slots)
        .with_metrics(&res.registry)?;
    Ok(AppState {
        pool: res.pool.clone(),
        read_pool,
        redis: res.redis.clone(),
        currency: config.base.currency,
        cache: Arc::new(cache),
        reservation_ttl_minutes: config.reservation_ttl_minutes,
        count_cap: config.count_cap,
        relay_wake: res.relay_wake.clone(),
    })
}

/// The service from `state`: routes, the `catalog.orders` consumer, the reservation sweeper and
/// the listing count compactor.
pub fn spec(state: AppState) -> ServiceSpec {
    let pool = state.pool.clone();
    ServiceSpec::new(&INFO)
        .routes(routes(state))
        .consumer(inventory::consumer::options(""), ReservationEvents)
        .task("reservation sweeper", {
            let pool = pool.clone();
            move |stop| Sweeper::new(pool, inventory::sweeper::DEFAULT_INTERVAL).run(stop)
        })
        .task("listing count compactor", move |stop| {
            listing::compactor::run(pool, listing::compactor::DEFAULT_INTERVAL, stop)
        })
}

/// The service from configuration (what `catalog serve` runs).
pub fn describe(config: &CatalogConfig, res: &Resources) -> anyhow::Result<ServiceSpec> {
    Ok(spec(state(config, res)?))
}
