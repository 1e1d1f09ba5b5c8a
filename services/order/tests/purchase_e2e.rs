//! The whole purchase on real servers: catalog, cart, order (API, payment consumer, sweeper),
//! the order worker and payment-webhook, each on the platform runner with its own database and
//! queue prefix, all on ONE exchange; the Stripe emulator signs and delivers its webhooks to
//! payment-webhook; the worker mails a real SMTP listener in this process.
//!
//! The shopper's calls (cart, checkout, order read) and the emulator's webhook deliveries go
//! through a real NGINX gateway (deploy/nginx, rendered by scripts/gateway.sh) on its own port,
//! its upstreams the services' random ports; service-to-service calls go direct, as in
//! production.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)]

#[path = "common/smtp.rs"]
mod smtp;

use std::time::Duration;

use diesel_async::RunQueryDsl;
use order::config::{OrderConfig, OrderSettings};
use payment_webhook::config::{WebhookConfig, WebhookSettings};
use payment_webhook::webhook::batch::BatchOptions;
use platform::config::{AppEnv, SecretString};
use serde_json::{Value, json};
use stripe_emulator::{EmulatorConfig, RetryPolicy, RunningEmulator};
use testkit::{TestDb, TestService, wait_until};

const WAIT: Duration = Duration::from_secs(30);
const WEBHOOK_SECRET: &str = "whsec_e2e";
const STRIPE_KEY: &str = "sk_test_e2e";
/// Seed products (catalog's demo data): 1 TSHIRT-BLK-M ($29.99), 2 JEANS-DNM-32 ($79.99).
const TSHIRT: i64 = 1;
const JEANS: i64 = 2;

/// Every service of one purchase, running.
struct Shop {
    catalog_db: TestDb,
    cart_db: TestDb,
    order_db: TestDb,
    payments_db: TestDb,
    catalog: TestService,
    cart: TestService,
    order: TestService,
    worker: TestService,
    webhook: TestService,
    stripe: RunningEmulator,
    stripe_client: stripe::Client,
    sink: smtp::Sink,
    gateway: Gateway,
    client: reqwest::Client,
}

/// The test's base config for `info` on `db`, on the shared `exchange`, with its own queue prefix.
fn base(info: &platform::service::ServiceInfo, db: &TestDb, exchange: &str) -> platform::service::BaseConfig {
    let mut base = testkit::base_config(info, db);
    exchange.clone_into(&mut base.amqp_exchange);
    base.http_workers = 2;
    base
}

/// NGINX with the rendered deploy/nginx config in front of the four services; killed on drop.
struct Gateway {
    child: std::sync::Mutex<std::process::Child>,
    dir: std::path::PathBuf,
    base_url: String,
}

impl Gateway {
    /// Renders and starts the gateway (up to three free ports: another process may take the
    /// one found before NGINX binds it), waiting for `/health` through it.
    async fn start(upstreams: &[(&str, &TestService)]) -> Gateway {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let script = root.join("scripts/gateway.sh");
        let out =
            std::process::Command::new(&script).arg("nginx").output().expect("scripts/gateway.sh nginx");
        assert!(out.status.success(), "no nginx: {}", String::from_utf8_lossy(&out.stderr));
        let nginx = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let dir = std::env::temp_dir().join(format!("e2e-gateway-{}", uuid::Uuid::new_v4().simple()));
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut render = std::process::Command::new(&script);
            render
                .arg("render")
                .arg(&dir)
                .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
                .env("GATEWAY_ACCESS_LOG", "off");
            for (var, service) in upstreams {
                render.env(var, service.base_url.trim_start_matches("http://"));
            }
            assert!(render.status().unwrap().success(), "scripts/gateway.sh render");
            let child = std::process::Command::new(&nginx)
                .args(["-e", "stderr", "-p"])
                .arg(&dir)
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("nginx");
            let mut gateway = Gateway {
                child: std::sync::Mutex::new(child),
                dir: dir.clone(),
                base_url: format!("http://127.0.0.1:{port}"),
            };
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let up = wait_until(WAIT, "the gateway's /health", || async {
                if gateway.child.lock().unwrap().try_wait().ok().flatten().is_some() {
                    return Some(false); // exited: most likely the port was taken
                }
                let res = client.get(format!("{}/health", gateway.base_url)).send().await.ok()?;
                (res.status().as_u16() == 200).then_some(true)
            })
            .await;
            if up {
                return gateway;
            }
            gateway.kill();
        }
        panic!("nginx could not bind a free port in three tries");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Fast shutdown: SIGTERM to the master, which stops its workers before exiting (SIGKILL
    /// would orphan them, still listening).
    fn kill(&mut self) {
        let child = self.child.get_mut().unwrap();
        if child.try_wait().ok().flatten().is_none() {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Catalog: routes, the `catalog.orders` consumer and the reservation sweeper (no page cache).
async fn spawn_catalog(db: &TestDb, exchange: &str) -> TestService {
    testkit::spawn_service(&catalog::INFO, base(&catalog::INFO, db, exchange), |res| {
        let state = catalog::state::AppState::uncached(res);
        Ok(catalog::app::spec(state))
    })
    .await
}

impl Shop {
    async fn start() -> Shop {
        let catalog_db = TestDb::new("catalog", catalog::MIGRATIONS).await;
        let cart_db = TestDb::new("cart", cart::MIGRATIONS).await;
        let order_db = TestDb::new(order::SCHEMA, order::MIGRATIONS).await;
        let payments_db = TestDb::new("payments", payment_webhook::MIGRATIONS).await;
        catalog::seed::seed_demo(&mut catalog_db.conn().await).await.expect("seed demo");
        // One exchange for all four services (each keeps the queue prefix base_config gave it).
        let exchange = testkit::base_config(&catalog::INFO, &catalog_db).amqp_exchange;

        let catalog = spawn_catalog(&catalog_db, &exchange).await;

        // Cart: routes and the `cart.orders` consumer, reaching catalog on its port.
        let mut cart_settings =
            cart::config::CartSettings::from_vars(platform::config::AppEnv::Test, Vec::new())
                .expect("cart settings");
        cart_settings.catalog_url = catalog.base_url.clone();
        let cart = testkit::spawn_service(&cart::INFO, base(&cart::INFO, &cart_db, &exchange), |res| {
            Ok(cart::app::spec(cart::app::state(&cart_settings, res)?))
        })
        .await;

        // payment-webhook: verifies the emulator's signatures, publishes `payment.*`.
        let webhook_base = base(&payment_webhook::INFO, &payments_db, &exchange);
        let webhook_config = WebhookConfig {
            base: webhook_base.clone(),
            service: WebhookSettings {
                webhook_secrets: vec![SecretString::from(WEBHOOK_SECRET)],
                tolerance_secs: 300,
                relay_batch: 200,
                batch: BatchOptions::default(),
            },
        };
        let webhook = testkit::spawn_service(&payment_webhook::INFO, webhook_base, |res| {
            payment_webhook::app::describe(&webhook_config, res)
        })
        .await;

        // The emulator delivers its events to payment-webhook's endpoint.
        let stripe = RunningEmulator::start(EmulatorConfig {
            webhook_endpoints: vec![],
            retry: RetryPolicy { base_delay: Duration::from_millis(20), ..RetryPolicy::default() },
        })
        .await
        .unwrap();

        // Order (API, payment consumer, sweeper) and its worker, mailing the sink.
        let sink = smtp::start().await;
        let vars: Vec<(String, String)> = vec![
            ("CART_URL".into(), cart.base_url.clone()),
            ("CATALOG_URL".into(), catalog.base_url.clone()),
            ("STRIPE_API_BASE".into(), stripe.base_url.clone()),
            ("STRIPE_SECRET_KEY".into(), STRIPE_KEY.into()),
            ("SMTP_URL".into(), sink.url.clone()),
            ("MAIL_FROM".into(), "shop@example.com".into()),
        ];
        let settings = OrderSettings::from_vars(AppEnv::Test, vars).unwrap();
        let order_base = base(&order::INFO, &order_db, &exchange);
        let order = testkit::spawn_service(&order::INFO, order_base.clone(), |res| {
            Ok(order::app::spec(order::app::state(&settings, res)?))
        })
        .await;
        let worker_config = OrderConfig { base: order_base.clone(), service: settings };
        let worker = testkit::spawn_service(&order::INFO, order_base, |res| {
            order::worker::describe(&worker_config, res)
        })
        .await;

        // Every consumer attached before anything is published.
        let broker = order.resources().broker.clone();
        for queue in [
            catalog.queue(catalog::inventory::consumer::QUEUE),
            cart.queue(cart::orders::QUEUE),
            order.queue(order::payments::QUEUE),
            worker.queue(order::worker::QUEUE),
        ] {
            testkit::events::wait_for_consumer(&broker, &queue).await;
        }
        let gateway = Gateway::start(&[
            ("CATALOG_ADDR", &catalog),
            ("CART_ADDR", &cart),
            ("ORDER_ADDR", &order),
            ("PAYMENT_WEBHOOK_ADDR", &webhook),
        ])
        .await;
        // Stripe reaches payment-webhook through the gateway, as in production.
        stripe.add_webhook_endpoint(&gateway.url("/webhooks/stripe"), Some(WEBHOOK_SECRET.to_owned()));
        let stripe_client =
            stripe::ClientBuilder::new(STRIPE_KEY).url(format!("{}/", stripe.base_url)).build().unwrap();
        let client = reqwest::Client::builder().no_proxy().timeout(WAIT).build().unwrap();
        Shop {
            catalog_db,
            cart_db,
            order_db,
            payments_db,
            catalog,
            cart,
            order,
            worker,
            webhook,
            stripe,
            stripe_client,
            sink,
            gateway,
            client,
        }
    }

    async fn call(
        &self,
        method: &str,
        url: String,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method.parse().unwrap(), url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        testkit::http::send(req).await
    }

    /// A guest cart with 2 × T-shirt and 1 × jeans: (cart id, cart token).
    async fn filled_cart(&self) -> (String, String) {
        let (status, body) = self.call("POST", self.gateway.url("/api/v1/carts"), &[], None).await;
        assert_eq!(status, 201, "{body}");
        let (id, token) =
            (body["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned());
        for (product, quantity) in [(TSHIRT, 2), (JEANS, 1)] {
            let (status, body) = self
                .call(
                    "POST",
                    self.gateway.url(&format!("/api/v1/carts/{id}/items")),
                    &[("x-cart-token", &token)],
                    Some(json!({"product_id": product, "quantity": quantity})),
                )
                .await;
            assert!(status == 201 || status == 200, "add item: {status} {body}");
        }
        (id, token)
    }

    /// `POST /api/v1/checkout` as the guest: the answer (order number, totals, payment).
    async fn checkout(&self, cart: &str, token: &str, key: &str) -> Value {
        let address =
            json!({"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"});
        let (status, body) = self
            .call(
                "POST",
                self.gateway.url("/api/v1/checkout"),
                &[("x-cart-token", token), ("idempotency-key", key)],
                Some(json!({
                    "cart_id": cart,
                    "customer_email": "buyer@example.com",
                    "customer_name": "Pat Buyer",
                    "shipping_address": address,
                    "billing_address": address,
                })),
            )
            .await;
        assert_eq!(status, 201, "checkout: {body}");
        body
    }

    /// The order as its guest owner reads it (with the access token from checkout).
    async fn order_view(&self, placed: &Value) -> Value {
        let number = placed["order_number"].as_str().unwrap();
        let token = placed["access_token"].as_str().unwrap();
        let (status, body) = self
            .call(
                "GET",
                self.gateway.url(&format!("/api/v1/orders/{number}")),
                &[("x-order-token", token)],
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until the order's `payment_status` is `want` (read through the API).
    async fn wait_payment(&self, placed: &Value, want: &str) -> Value {
        wait_until(WAIT, &format!("order payment status {want}"), || async {
            let view = self.order_view(placed).await;
            (view["payment_status"] == want).then_some(view)
        })
        .await
    }

    /// `(stock_quantity, reserved_quantity)` of a catalog product.
    async fn counters(&self, id: i64) -> (i32, i32) {
        testkit::stock::counters(&self.catalog_db, id).await
    }

    /// One number from the order database (`SELECT ... AS n`).
    async fn order_count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql).get_result::<N>(&mut self.order_db.conn().await).await.unwrap().n
    }

    async fn confirm(
        &self,
        pi: &str,
        card: &str,
    ) -> Result<stripe_shared::PaymentIntent, stripe::StripeError> {
        stripe_core::payment_intent::ConfirmPaymentIntent::new(pi)
            .payment_method(card)
            .send(&self.stripe_client)
            .await
    }

    async fn stop(self) {
        for service in [self.worker, self.order, self.webhook, self.cart, self.catalog] {
            service.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_guest_buys_two_lines_and_pays_by_card() {
    let shop = Shop::start().await;
    let before = (shop.counters(TSHIRT).await, shop.counters(JEANS).await);
    let (cart, token) = shop.filled_cart().await;

    let placed = shop.checkout(&cart, &token, "e2e-paid").await;
    let number = placed["order_number"].as_str().unwrap().to_owned();
    let pi = placed["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
    // The same key and body replays the stored answer: one order.
    let again = shop.checkout(&cart, &token, "e2e-paid").await;
    assert_eq!(again["order_number"], number.as_str());

    // The card pays; the emulator signs `payment_intent.succeeded` and posts it to
    // payment-webhook, whose relay publishes `payment.succeeded` for order's consumer.
    let intent = shop.confirm(&pi, "pm_card_visa").await.unwrap();
    assert_eq!(intent.status, stripe_shared::PaymentIntentStatus::Succeeded);
    let view = shop.wait_payment(&placed, "completed").await;
    assert_eq!(view["order_number"], number.as_str());
    assert_eq!(view["status"], "paid", "{view}");

    // `order.paid`: catalog commits the stock, cart deletes the cart.
    wait_until(WAIT, "catalog to commit the stock", || async {
        let now = (shop.counters(TSHIRT).await, shop.counters(JEANS).await);
        // The seed's own reserved units (not this order's) stay as they were.
        let want = ((before.0.0 - 2, before.0.1), (before.1.0 - 1, before.1.1));
        if now != want {
            eprintln!("catalog (stock, reserved): {now:?}, want {want:?}");
        }
        (now == want).then_some(())
    })
    .await;
    wait_until(WAIT, "the cart to be gone", || async {
        let (status, _) = shop
            .call(
                "GET",
                shop.gateway.url(&format!("/api/v1/carts/{cart}")),
                &[("x-cart-token", &token)],
                None,
            )
            .await;
        (status == 404).then_some(())
    })
    .await;

    // The worker mails the confirmation once.
    wait_until(WAIT, "the confirmation email", || async {
        (!shop.sink.mails.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    wait_until(WAIT, "nothing left to send", || async {
        let left = shop
            .order_count(
                "SELECT count(*) AS n FROM email_notifications WHERE status IN ('pending', 'sending')",
            )
            .await;
        (left == 0).then_some(())
    })
    .await;
    let mails = shop.sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, ["buyer@example.com"]);
    assert!(mails[0].data.contains(&number), "{}", mails[0].data);
    assert_eq!(shop.order_count("SELECT count(*) AS n FROM orders").await, 1);
    Box::pin(shop.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_declined_card_releases_the_stock_and_keeps_the_cart() {
    let shop = Shop::start().await;
    let before = (shop.counters(TSHIRT).await, shop.counters(JEANS).await);
    let (cart, token) = shop.filled_cart().await;
    let placed = shop.checkout(&cart, &token, "e2e-declined").await;
    let pi = placed["payment"]["payment_intent_id"].as_str().unwrap().to_owned();

    // Stripe answers a card error; the emulator still reports `payment_intent.payment_failed`.
    assert!(shop.confirm(&pi, "pm_card_chargeDeclined").await.is_err());
    let view = shop.wait_payment(&placed, "failed").await;
    // Not final: the same PaymentIntent may still be paid with another card.
    assert_eq!(view["status"], "pending_payment", "{view}");

    // `payment.failed`: catalog releases the order's reservations (stock untouched).
    wait_until(WAIT, "catalog to release the stock", || async {
        let now = (shop.counters(TSHIRT).await, shop.counters(JEANS).await);
        let want = before;
        if now != want {
            eprintln!("catalog (stock, reserved): {now:?}, want {want:?}");
        }
        (now == want).then_some(())
    })
    .await;

    // No email for a failed payment.
    assert_eq!(shop.order_count("SELECT count(*) AS n FROM email_notifications").await, 0);
    assert!(shop.sink.mails.lock().unwrap().is_empty());

    // The cart is still there. It stays locked while the order is open: a failed PaymentIntent
    // is not final (the shopper may retry it with another card), so the checkout still holds
    // the cart until the order is canceled or expires.
    let cart_url = shop.gateway.url(&format!("/api/v1/carts/{cart}"));
    let (status, body) = shop.call("GET", cart_url.clone(), &[("x-cart-token", &token)], None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2), "{body}");
    let add = || async {
        shop.call(
            "POST",
            format!("{cart_url}/items"),
            &[("x-cart-token", &token)],
            Some(json!({"product_id": 3, "quantity": 1})),
        )
        .await
    };
    assert_eq!(add().await.0, 409, "a cart under an open checkout changes");
    // The shopper gives up: `order.canceled` gives the cart back to them.
    let number = placed["order_number"].as_str().unwrap();
    let order_token = placed["access_token"].as_str().unwrap();
    let (status, body) = shop
        .call(
            "POST",
            shop.gateway.url(&format!("/api/v1/orders/{number}/cancel")),
            &[("x-order-token", order_token)],
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "cancel: {body}");
    wait_until(WAIT, "the cart to be unlocked", || async {
        let (status, _) = add().await;
        (status == 201 || status == 200).then_some(())
    })
    .await;
    Box::pin(shop.stop()).await;
}
