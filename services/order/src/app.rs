//! order as the runner sees it: the API, the payment-event consumer, the sweeper, the payment
//! syncer and the outbox relay (`order serve`). `order worker` is [`crate::worker::describe`].

use actix_web::web;
use platform::config::ExposeSecret;
use platform::service::{Resources, ServiceSpec};

use crate::config::{OrderConfig, OrderSettings};
use crate::payments::PaymentEvents;
use crate::state::AppState;
use crate::{INFO, SCHEMA, admin, checkout, orders, payments, sweeper};

/// The order routes, with `state` as app data (the runner adds `Auth`).
pub fn routes(state: AppState) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + Sync + 'static {
    let state = web::Data::new(state);
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone())
            .route("/api/v1/checkout", web::post().to(checkout::checkout))
            .route("/api/v1/orders", web::get().to(orders::list))
            .route("/api/v1/orders/{order_number}", web::get().to(orders::show))
            .route("/api/v1/orders/{order_number}/cancel", web::post().to(orders::cancel))
            .route("/api/v1/admin/orders", web::get().to(admin::search))
            .route("/api/v1/admin/orders/{order_number}", web::get().to(admin::show))
            .route("/api/v1/admin/orders/{order_number}/refund", web::post().to(admin::refund))
            .route("/api/v1/admin/orders/{order_number}/fulfillment", web::post().to(admin::fulfillment));
    }
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
