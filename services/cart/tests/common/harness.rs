//! Starting catalog and cart for a test.

use std::sync::Arc;
use std::time::Duration;

use catalog::cache::{CacheTiming, PageCache};
use domain::money::Currency;
use platform::auth::Auth;
use platform::config::Secret;
use platform::events::{Broker, Consumer};
use platform::http::health::{PostgresCheck, RedisCheck};
use platform::http::{HttpKit, Readiness, ReadyCheck};
use platform::redis::Redis;
use platform::shutdown::{self, ShutdownTrigger};
use testkit::{TcpProxy, TestDb, TestServer};

pub const JWT_SECRET: &str = "test-jwt-secret";
pub const INTERNAL_TOKEN: &str = "test-internal-token";

/// How to build the world.
pub struct Options {
    pub reserve_on_add: bool,
    pub catalog_timeout: Duration,
    pub price_cache: Duration,
    pub http_workers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            reserve_on_add: true,
            catalog_timeout: Duration::from_secs(2),
            price_cache: Duration::from_secs(3),
            http_workers: 2,
        }
    }
}

pub struct World {
    pub catalog_db: TestDb,
    pub catalog: TestServer,
    /// Cart reaches catalog through this; `set_down()` kills catalog for cart.
    pub catalog_proxy: TcpProxy,
    pub cart_db: TestDb,
    pub cart: TestServer,
    pub cart_url: String,
    pub client: reqwest::Client,
    pub state: cart::state::AppState,
    pub redis_prefix: String,
    pub broker: Arc<Broker>,
    pub consumer_queue: String,
    pub registry: prometheus::Registry,
    trigger: ShutdownTrigger,
}

async fn spawn_catalog() -> (TestDb, TestServer) {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let mut conn = db.conn().await;
    catalog::seed::seed_demo(&mut conn).await.expect("seed demo");
    let pool = db.pool().await;
    let redis = Redis::new(&testkit::redis_url(), testkit::redis_prefix()).expect("redis");
    let cache = Arc::new(PageCache::new(redis.clone(), CacheTiming::from_ttl(Duration::ZERO), false));
    let state = catalog::state::AppState {
        pool: pool.clone(),
        read_pool: pool.clone(),
        redis: redis.clone(),
        currency: Currency::Usd,
        cache,
        reservation_ttl_minutes: 15,
    };
    let checks: Vec<Box<dyn ReadyCheck>> = vec![Box::new(PostgresCheck(pool)), Box::new(RedisCheck(redis))];
    let readiness = Readiness::new(checks, Duration::from_secs(1));
    let metrics =
        platform::http::metrics::middleware("catalog", prometheus::Registry::new()).expect("metrics");
    let auth = Auth::with_secret(&Secret::new(JWT_SECRET), Secret::new(INTERNAL_TOKEN));
    let kit = HttpKit { workers: 2, ..HttpKit::new(metrics, readiness) };
    let server = testkit::spawn_server(move |l| catalog::app::http_server(l, kit, state, auth));
    (db, server)
}

impl World {
    pub async fn start() -> World {
        World::with(Options::default()).await
    }

    pub async fn with(opts: Options) -> World {
        let (catalog_db, catalog) = spawn_catalog().await;
        let catalog_proxy = TcpProxy::start(catalog.addr, true).await;
        let cart_db = TestDb::new("cart", cart::MIGRATIONS).await;
        let redis_prefix = testkit::redis_prefix();
        let redis = Redis::new(&testkit::redis_url(), redis_prefix.clone()).expect("redis");
        let pool = cart_db.pool().await;
        let mut settings = cart::config::CartSettings::from_vars(Vec::new()).expect("settings");
        settings.catalog_url = format!("http://{}", catalog_proxy.addr());
        settings.reserve_on_add = opts.reserve_on_add;
        settings.catalog_timeout = opts.catalog_timeout;
        settings.price_cache = opts.price_cache;
        let registry = prometheus::Registry::new();
        let state =
            cart::app::state(&settings, pool.clone(), redis.clone(), Secret::new(INTERNAL_TOKEN), &registry)
                .expect("state");

        let names = testkit::broker_names();
        let broker = Arc::new(Broker::new(testkit::amqp_url(), names.exchange.clone()));
        let (trigger, stop) = shutdown::channel();
        let options = cart::orders::options(&names.prefix);
        let consumer_queue = options.queue.clone();
        let consumer = Consumer::new(pool.clone(), broker.clone(), options);
        tokio::spawn(consumer.run(cart::orders::OrderEvents::new(state.store.clone()), stop));
        testkit::events::wait_for_consumer(&broker, &consumer_queue).await;

        let checks: Vec<Box<dyn ReadyCheck>> =
            vec![Box::new(PostgresCheck(pool)), Box::new(RedisCheck(redis))];
        let readiness = Readiness::new(checks, Duration::from_secs(1));
        let metrics = platform::http::metrics::middleware("cart", registry.clone()).expect("metrics");
        let auth = Auth::with_secret(&Secret::new(JWT_SECRET), Secret::new(INTERNAL_TOKEN));
        let kit = HttpKit { workers: opts.http_workers, ..HttpKit::new(metrics, readiness) };
        let routes = cart::app::routes(state.clone());
        let auth_data = actix_web::web::Data::new(auth);
        let cart = testkit::spawn_server(move |l| {
            platform::http::build_server(l, kit, move |cfg: &mut actix_web::web::ServiceConfig| {
                cfg.app_data(auth_data.clone());
                routes(cfg);
            })
        });
        let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
        World {
            catalog_db,
            catalog,
            catalog_proxy,
            cart_db,
            cart_url: cart.base_url.clone(),
            cart,
            client,
            state,
            redis_prefix,
            broker,
            consumer_queue,
            registry,
            trigger,
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.trigger.trigger();
    }
}
