//! order as the runner sees it: the API, the payment-event consumer, the sweeper, the payment
//! syncer and the outbox relay (`order serve`). `order worker` is [`crate::worker::describe`].

use actix_web::web;
use platform::config::ExposeSecret;
use platform::openapi::{Api, Link};
use platform::service::{Resources, ServiceSpec};

use crate::config::{OrderConfig, OrderSettings};
use crate::payments::PaymentEvents;
use crate::state::AppState;
use crate::{INFO, SCHEMA, admin, checkout, orders, payments, sweeper};

/// The order's documented routes: each handler's `utoipa::path` names its method and path.
pub fn api() -> Api {
    Api::new(crate::SERVICE, "Checkout, orders and their payments, refunds and fulfilment")
        .op(checkout::handler::__path_checkout, checkout::checkout)
        .op(orders::__path_list, orders::list)
        .op(orders::__path_show, orders::show)
        .op(orders::__path_cancel, orders::cancel)
        .op(admin::__path_search, admin::search)
        .op(admin::__path_show, admin::show)
        .op(admin::__path_refund, admin::refund)
        .op(admin::__path_fulfillment, admin::fulfillment)
        .link(placed("show_order"))
        .link(placed("cancel_order"))
}

/// The order just placed, read with its access token.
fn placed(to: &'static str) -> Link {
    const READ: &[(&str, &str)] = &[
        ("path.order_number", "$response.body#/order_number"),
        ("header.X-Order-Token", "$response.body#/access_token"),
    ];
    Link::to("checkout", "201", to, READ)
}

/// The order routes (and `GET /openapi.json`), with `state` as app data (the runner adds `Auth`).
pub fn routes(state: AppState) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + Sync + 'static {
    api().with_state(state)
}

/// Handler state from the order's settings and the runner's resources (lazy: nothing connects yet).
pub fn state(settings: &OrderSettings, res: &Resources) -> anyhow::Result<AppState> {
    AppState::new(
        settings.clone(),
        res.pool.clone(),
        &res.base.internal_token,
        &res.registry,
        res.relay_wake.clone(),
        res.base.connections.database_url.expose(),
    )
}

/// The service from `state`: routes, the `order.payments` consumer, the sweeper and the
/// payment syncer.
pub fn spec(state: AppState) -> ServiceSpec {
    let sweeper_state = state.clone();
    let syncer_state = state.clone();
    ServiceSpec::new(&INFO)
        .routes(routes(state.clone()))
        .consumer(payments::options(), PaymentEvents { state })
        .task("sweeper", move |stop| sweeper::run(sweeper_state, stop))
        .task("payment-sync", move |stop| {
            let url = syncer_state.database_url.expose_secret().to_owned();
            payments::sync::syncer::run(syncer_state, url, SCHEMA.to_owned(), stop)
        })
}

/// The service from configuration (what `order serve` runs).
pub fn describe(config: &OrderConfig, res: &Resources) -> anyhow::Result<ServiceSpec> {
    Ok(spec(state(config, res)?))
}
