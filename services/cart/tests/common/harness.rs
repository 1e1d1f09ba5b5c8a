//! Starting catalog and cart for a test, both on the platform runner.

use std::sync::Arc;
use std::time::Duration;

use platform::events::Broker;
use platform::service::ServiceSpec;
use testkit::{TcpProxy, TestDb, TestService};

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
    pub catalog: TestService,
    /// Cart reaches catalog through this; `set_down()` kills catalog for cart.
    pub catalog_proxy: TcpProxy,
    pub cart_db: TestDb,
    pub cart: TestService,
    pub cart_url: String,
    pub client: reqwest::Client,
    pub state: cart::state::AppState,
    pub redis_prefix: String,
    pub broker: Arc<Broker>,
    pub consumer_queue: String,
}

/// The real catalog app (its routes; no consumer or sweeper: tests drive expiry) with the
/// seed's three products.
async fn spawn_catalog() -> (TestDb, TestService) {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let mut conn = db.conn().await;
    catalog::seed::seed_demo(&mut conn).await.expect("seed demo");
    let mut base = testkit::base_config(&catalog::INFO, &db);
    base.http_workers = 2;
    let server = testkit::spawn_service(&catalog::INFO, base, |res| {
        let state = catalog::state::AppState::uncached(res);
        Ok(ServiceSpec::new(&catalog::INFO).routes(catalog::app::routes(state)))
    })
    .await;
    (db, server)
}

impl World {
    pub async fn start() -> World {
        World::with(Options::default()).await
    }

    pub async fn with(opts: Options) -> World {
        let (catalog_db, catalog) = spawn_catalog().await;
        let catalog_addr = catalog.base_url.trim_start_matches("http://").parse().expect("catalog address");
        let catalog_proxy = TcpProxy::start(catalog_addr, true).await;

        let cart_db = TestDb::new("cart", cart::MIGRATIONS).await;
        let mut base = testkit::base_config(&cart::INFO, &cart_db);
        base.http_workers = opts.http_workers;
        let mut settings = cart::config::CartSettings::from_vars(platform::config::AppEnv::Test, Vec::new())
            .expect("settings");
        settings.catalog_url = format!("http://{}", catalog_proxy.addr());
        settings.reserve_on_add = opts.reserve_on_add;
        settings.catalog_timeout = opts.catalog_timeout;
        settings.price_cache = opts.price_cache;
        let mut made = None;
        let cart = testkit::spawn_service(&cart::INFO, base, |res| {
            let state = cart::app::state(&settings, res)?;
            made = Some(state.clone());
            Ok(cart::app::spec(state))
        })
        .await;
        let state = made.expect("the cart's state");
        let broker = cart.resources().broker.clone();
        let consumer_queue = cart.queue(cart::orders::QUEUE);
        testkit::events::wait_for_consumer(&broker, &consumer_queue).await;
        let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
        World {
            catalog_db,
            catalog,
            catalog_proxy,
            cart_db,
            cart_url: cart.base_url.clone(),
            redis_prefix: cart.resources().base.redis_key_prefix.clone(),
            cart,
            client,
            state,
            broker,
            consumer_queue,
        }
    }
}
