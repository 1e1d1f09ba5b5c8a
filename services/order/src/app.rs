//! Wiring: the routes, the shared state, and (with the service runner) the `ServiceSpec`s of
//! `order serve` and `order worker`.

use std::sync::Arc;

use actix_web::web;
use platform::auth::Auth;
use platform::config::Secret;
use platform::db::PgPool;
use tokio::sync::Notify;

use crate::clients::cart::CartClient;
use crate::clients::catalog::CatalogClient;
use crate::clients::stripe::Payments;
use crate::config::OrderSettings;
use crate::metrics::OrderMetrics;
use crate::state::AppState;
use crate::{admin, checkout, orders};

/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "order";
/// The service's PostgreSQL schema.
pub const SCHEMA: &str = "orders";

/// Adds the order routes and their app data.
pub fn routes(
    state: AppState,
    auth: Auth,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + Sync + 'static {
    let state = web::Data::new(state);
    let auth = web::Data::new(auth);
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone())
            .app_data(auth.clone())
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

/// The state handlers, consumers and tasks share.
pub fn state(
    settings: OrderSettings,
    pool: PgPool,
    internal_token: Secret,
    registry: &prometheus::Registry,
    relay_wake: Arc<Notify>,
) -> anyhow::Result<AppState> {
    let http = crate::clients::http_client();
    let stripe = Payments::new(&settings.stripe_api_base, &settings.stripe_secret_key)?;
    Ok(AppState {
        pool,
        cart: CartClient::new(http.clone(), settings.cart_url.clone(), internal_token.clone()),
        catalog: CatalogClient::new(http, settings.catalog_url.clone(), internal_token),
        stripe,
        settings: Arc::new(settings),
        metrics: OrderMetrics::register(registry)?,
        relay_wake,
    })
}
