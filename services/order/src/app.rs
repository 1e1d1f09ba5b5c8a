//! order as the runner sees it: `order serve` (the API, the payment-event consumer, the
//! sweeper, the outbox relay) and `order worker` (the email consumer and sender).

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use platform::config::{ExposeSecret, SecretString};
use platform::db::PgPool;
use platform::events::QueueOptions;
use platform::service::{Resources, ServiceInfo, ServiceSpec};
use tokio::sync::Notify;

use crate::clients::cart::CartClient;
use crate::clients::catalog::CatalogClient;
use crate::clients::stripe::Payments;
use crate::config::{OrderConfig, OrderSettings};
use crate::metrics::OrderMetrics;
use crate::payments::PaymentEvents;
use crate::state::AppState;
use crate::worker::NotificationEvents;
use crate::worker::sender::Sender;
use crate::{admin, checkout, orders, payments, sweeper, worker};

/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "order";
/// The service's PostgreSQL schema.
pub const SCHEMA: &str = "orders";

/// What the runner needs to know before reading the configuration.
pub const INFO: ServiceInfo = ServiceInfo {
    name: SERVICE,
    schema: SCHEMA,
    default_http_addr: "0.0.0.0:8083",
    migrations: crate::MIGRATIONS,
    uses_redis: false,
    uses_auth: true,
};

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

/// The state handlers, consumers and tasks share.
pub fn state(
    settings: OrderSettings,
    pool: PgPool,
    internal_token: &SecretString,
    registry: &prometheus::Registry,
    relay_wake: Arc<Notify>,
    database_url: &str,
) -> anyhow::Result<AppState> {
    let http = crate::clients::http_client();
    let stripe = Payments::new(&settings.stripe_api_base, &settings.stripe_secret_key)?;
    let token = SecretString::from(internal_token.expose_secret());
    Ok(AppState {
        pool,
        cart: CartClient::new(http.clone(), settings.cart_url.clone(), token.clone()),
        catalog: CatalogClient::new(http, settings.catalog_url.clone(), token),
        stripe,
        settings: Arc::new(settings),
        metrics: OrderMetrics::register(registry)?,
        relay_wake,
        database_url: SecretString::from(database_url),
    })
}

/// State from configuration and the runner's resources.
pub fn state_of(settings: &OrderSettings, res: &Resources) -> anyhow::Result<AppState> {
    state(
        settings.clone(),
        res.pool.clone(),
        &res.base.internal_token,
        &res.registry,
        res.relay_wake.clone(),
        res.base.connections.database_url.expose(),
    )
}

/// `order serve` from `state`.
pub fn spec(state: AppState) -> ServiceSpec {
    spec_with(state, QueueOptions::default())
}

/// `order serve` with these queue arguments for its consumer (tests give an expiry, so no
/// queue outlives them).
pub fn spec_with(state: AppState, queue_options: QueueOptions) -> ServiceSpec {
    let sweeper_state = state.clone();
    let syncer_state = state.clone();
    let mut consumer = payments::options();
    consumer.queue_options = queue_options;
    ServiceSpec::new(&INFO)
        .routes(routes(state.clone()))
        .consumer(consumer, PaymentEvents { state })
        .task("sweeper", move |stop| sweeper::run(sweeper_state, stop))
        .task("payment-sync", move |stop| {
            let url = syncer_state.database_url.expose_secret().to_owned();
            payments::sync::syncer::run(syncer_state, url, SCHEMA.to_owned(), stop)
        })
}

/// `order serve` from configuration.
pub fn describe(config: &OrderConfig, res: &Resources) -> anyhow::Result<ServiceSpec> {
    Ok(spec(state_of(&config.settings, res)?))
}

/// `order worker`: no API routes (the runner still serves `/health`, `/ready` and `/metrics` on
/// `HTTP_ADDR`); it publishes nothing, so no relay.
pub fn describe_worker(config: &OrderConfig, res: &Resources) -> anyhow::Result<ServiceSpec> {
    worker_spec(config, res, QueueOptions::default())
}

/// [`describe_worker`] with these queue arguments for its consumer.
pub fn worker_spec(
    config: &OrderConfig,
    res: &Resources,
    queue_options: QueueOptions,
) -> anyhow::Result<ServiceSpec> {
    let settings = &config.settings;
    let sender = Sender::new(
        res.pool.clone(),
        settings.smtp_url.expose_secret(),
        &settings.mail_from,
        OrderMetrics::register(&res.registry)?,
    )?;
    Ok(ServiceSpec::new(&INFO)
        .without_relay()
        .consumer(worker::ConsumerOptions { queue_options, ..worker::options() }, NotificationEvents)
        .task("email-sender", move |stop| sender.run(Duration::from_secs(1), stop)))
}
