//! Wiring: routes, the HTTP server, and `catalog serve`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use platform::auth::Auth;
use platform::db::{self, PoolOptions};
use platform::events::{Broker, Consumer, Relay, RelayOptions};
use platform::http::health::{PostgresCheck, RabbitMqCheck, RedisCheck};
use platform::http::{HttpKit, Readiness, ReadyCheck};
use platform::redis::Redis;
use platform::shutdown;

use crate::cache::{CacheTiming, PageCache};
use crate::config::{CatalogConfig, JwtKey, SCHEMA};
use crate::inventory::{self, consumer::ReservationEvents, sweeper::Sweeper};
use crate::state::AppState;
use crate::{admin, listing, product_page};

/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "catalog";

/// Adds the catalog's routes and app data.
pub fn routes(state: AppState, auth: Auth) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let state = web::Data::new(state);
    let auth = web::Data::new(auth);
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone())
            .app_data(auth.clone())
            .route("/api/v1/products", web::get().to(listing::list_products))
            .route("/api/v1/products/{slug}", web::get().to(product_page::show_product))
            .route("/api/v1/admin/products", web::post().to(admin::create))
            .route("/api/v1/admin/products/{id}", web::patch().to(admin::update))
            .route("/api/v1/admin/products/{id}", web::delete().to(admin::delete))
            .route("/api/v1/admin/products/{id}/stock", web::post().to(admin::stock))
            .configure(inventory::routes);
    }
}

/// The server on `listener` (tests pass a random port).
pub fn http_server(
    listener: TcpListener,
    kit: HttpKit,
    state: AppState,
    auth: Auth,
) -> std::io::Result<Server> {
    platform::http::build_server(listener, kit, routes(state, auth))
}

/// Builds [`Auth`] from configuration.
pub fn auth(config: &CatalogConfig) -> anyhow::Result<Auth> {
    Ok(match &config.jwt {
        JwtKey::Secret(s) => Auth::with_secret(s, config.internal_token.clone()),
        JwtKey::PublicKeyPem(pem) => Auth::with_public_key_pem(pem.expose(), config.internal_token.clone())?,
    })
}

/// Readiness checks for PostgreSQL, Redis and RabbitMQ.
pub fn readiness(state: &AppState, broker: Arc<Broker>) -> Readiness {
    let checks: Vec<Box<dyn ReadyCheck>> = vec![
        Box::new(PostgresCheck(state.pool.clone())),
        Box::new(RedisCheck(state.redis.clone())),
        Box::new(RabbitMqCheck(broker)),
    ];
    Readiness::new(checks, Duration::from_secs(2))
}

/// Pools and state from configuration (lazy: nothing connects yet); cache metrics go to `registry`.
pub fn state(config: &CatalogConfig, registry: &prometheus::Registry) -> anyhow::Result<AppState> {
    let options = PoolOptions {
        max_size: config.db_pool_size,
        statement_timeout: config.db_statement_timeout,
        ..PoolOptions::default()
    };
    let pool = db::pool(config.connections.database_url.expose(), SCHEMA, options)?;
    let read_pool = match &config.database_read_url {
        Some(url) => db::pool(url.expose(), SCHEMA, options)?,
        None => pool.clone(),
    };
    let redis = Redis::new(config.connections.redis_url.expose(), config.redis_key_prefix.clone())?;
    let ttl = Duration::from_secs(config.cache_ttl_secs);
    let cache = PageCache::new(redis.clone(), CacheTiming::from_ttl(ttl), config.cache_ttl_secs > 0)
        .with_metrics(registry)?;
    Ok(AppState {
        pool,
        read_pool,
        redis,
        currency: config.currency,
        cache: Arc::new(cache),
        reservation_ttl_minutes: config.reservation_ttl_minutes,
    })
}

/// `catalog serve`: HTTP, the outbox relay, the reservation sweeper and the `catalog.orders`
/// consumer, and metrics, until SIGTERM.
pub async fn serve(config: CatalogConfig) -> anyhow::Result<()> {
    let registry = prometheus::Registry::new();
    let state = state(&config, &registry)?;
    let broker = Arc::new(
        Broker::new(config.connections.amqp_url.expose(), config.amqp_exchange.clone())
            .with_connection_name(SERVICE),
    );
    let readiness = readiness(&state, broker.clone());
    let metrics =
        platform::http::metrics::middleware(SERVICE, registry.clone()).map_err(anyhow::Error::msg)?;
    let (trigger, stop) = shutdown::channel();
    platform::http::metrics::spawn_db_gauges(&registry, state.pool.clone(), true, stop.clone())?;

    let relay = Relay::new(
        state.pool.clone(),
        config.connections.database_url.expose().to_owned(),
        SCHEMA.to_owned(),
        broker.clone(),
        RelayOptions::default(),
    );
    let relay_task = tokio::spawn(relay.run(stop.clone()));
    let sweeper_task = tokio::spawn(
        Sweeper::new(state.pool.clone(), inventory::sweeper::DEFAULT_INTERVAL).run(stop.clone()),
    );
    let consumer = Consumer::new(state.pool.clone(), broker.clone(), inventory::consumer::options(""));
    let consumer_task = tokio::spawn(consumer.run(ReservationEvents, stop.clone()));

    let mut kit = HttpKit::new(metrics, readiness.clone());
    kit.workers = config.http_workers;
    let listener = TcpListener::bind(config.http_addr)?;
    tracing::info!(addr = %config.http_addr, database = %config.connections.database_url.redacted(), "catalog listening");
    let server = http_server(listener, kit, state, auth(&config)?)?;
    platform::http::run_until_signal(
        server,
        readiness,
        trigger.clone(),
        Duration::from_secs(config.shutdown_drain_seconds),
    )
    .await?;
    trigger.trigger();
    // The relay, sweeper and consumer finish the batch or message in hand; don't wait forever.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = tokio::join!(relay_task, sweeper_task, consumer_task);
    })
    .await;
    tracing::info!("catalog stopped");
    Ok(())
}
