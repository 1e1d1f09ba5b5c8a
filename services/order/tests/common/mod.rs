//! Shared set-up of the order tests: a fresh database, fake cart + catalog, the Stripe emulator,
//! the order app on a random port with its payment consumer and outbox relay on the test's own
//! exchange, and a queue observing `order.#`.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod fakes;
pub mod smtp;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use domain::events::Envelope;
use domain::ids::CartId;
use order::app;
use order::config::OrderSettings;
use order::state::AppState;
use order::worker::metrics::EmailMetrics;
use platform::config::AppEnv;
use platform::events::{self, Broker, QueueOptions};
use serde_json::{Value, json};
use stripe_emulator::{EmulatorConfig, RetryPolicy, RunningEmulator};
use testkit::{TestDb, TestService, wait_until};
use uuid::Uuid;

pub const WAIT: Duration = Duration::from_secs(30);

pub struct World {
    pub db: TestDb,
    pub server: TestService,
    pub state: AppState,
    /// The worker's email counter, on this server's registry (tests run senders themselves).
    pub emails: EmailMetrics,
    pub fakes: fakes::Shared,
    pub stripe: RunningEmulator,
    pub stripe_client: stripe::Client,
    pub proxy: Option<testkit::TcpProxy>,
    pub broker: Arc<Broker>,
    pub prefix: String,
    pub observer: String,
    forwarded: Mutex<HashSet<String>>,
}

#[derive(Default)]
pub struct Options {
    /// Extra settings variables (e.g. `CHECKOUT_SESSION_TIMEOUT`).
    pub vars: Vec<(&'static str, String)>,
    /// Reach Stripe through a proxy the test can take down (`World::proxy`).
    pub stripe_proxy: bool,
}

pub async fn spawn() -> World {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> World {
    let db = TestDb::new(order::SCHEMA, order::MIGRATIONS).await;
    let (fakes, fakes_url) = fakes::start();
    let stripe = RunningEmulator::start(EmulatorConfig {
        webhook_endpoints: vec![],
        retry: RetryPolicy { base_delay: Duration::from_millis(20), ..RetryPolicy::default() },
    })
    .await
    .unwrap();
    let proxy =
        if options.stripe_proxy { Some(testkit::TcpProxy::start(stripe.addr, true).await) } else { None };
    let stripe_base =
        proxy.as_ref().map_or_else(|| stripe.base_url.clone(), |p| format!("http://{}", p.addr()));
    let mut vars: Vec<(String, String)> = vec![
        ("CART_URL".into(), fakes_url.clone()),
        ("CATALOG_URL".into(), fakes_url),
        ("STRIPE_API_BASE".into(), stripe_base),
        ("STRIPE_SECRET_KEY".into(), "sk_test_order".into()),
        // Tests run sweeps themselves; the background one only ticks once at start.
        ("ORDER_SWEEP_INTERVAL_SECONDS".into(), "3600".into()),
    ];
    vars.extend(options.vars.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let settings = OrderSettings::from_vars(AppEnv::Test, vars).unwrap();
    let mut base = testkit::base_config(&order::INFO, &db);
    base.http_workers = 2;
    let captured: Arc<Mutex<Option<AppState>>> = Arc::default();
    let keep = captured.clone();
    let server = testkit::spawn_service(&order::INFO, base, move |res| {
        let state = app::state(&settings, res)?;
        *keep.lock().unwrap() = Some(state.clone());
        Ok(app::spec(state))
    })
    .await;
    let state = captured.lock().unwrap().clone().unwrap();
    let emails = EmailMetrics::register(&server.resources().registry).unwrap();
    let broker = server.resources().broker.clone();
    let prefix = server.resources().base.amqp_queue_prefix.clone();
    let observer = format!("{prefix}order.observer");
    observe(&broker, &observer, &["order.#"]).await;
    testkit::events::wait_for_consumer(&broker, &server.queue(order::payments::QUEUE)).await;
    let stripe_client =
        stripe::ClientBuilder::new("sk_test_order").url(format!("{}/", stripe.base_url)).build().unwrap();
    World {
        db,
        server,
        state,
        emails,
        fakes,
        stripe,
        stripe_client,
        proxy,
        broker,
        prefix,
        observer,
        forwarded: Mutex::default(),
    }
}

/// Declares `queue` bound to `keys` (expiring when unused) before anything is published.
pub async fn observe(broker: &Broker, queue: &str, keys: &[&str]) {
    wait_until(WAIT, "the observer queue", || async {
        let channel = broker.channel().await.map_err(|e| eprintln!("observer channel: {e}")).ok()?;
        events::declare_exchange(&channel, broker)
            .await
            .map_err(|e| eprintln!("observer exchange: {e}"))
            .ok()?;
        let q = QueueOptions { expires: Some(Duration::from_secs(120)) };
        events::declare_consumer_queue(&channel, broker.exchange(), queue, keys, &q)
            .await
            .map_err(|e| eprintln!("observer queue: {e}"))
            .ok()
    })
    .await;
}

/// A JWT for `sub` with `roles`, signed with the test secret.
pub fn jwt(sub: &str, roles: &[&str]) -> String {
    testkit::jwt(sub, roles)
}

pub fn address() -> Value {
    json!({"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"})
}

pub fn checkout_body(cart: CartId) -> Value {
    json!({
        "cart_id": cart,
        "customer_email": "buyer@example.com",
        "customer_name": "Pat Buyer",
        "shipping_address": address(),
        "billing_address": address(),
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Who calls.
#[derive(Clone, Debug)]
pub enum Who {
    /// A signed-in customer.
    Customer(String),
    /// A guest with the cart token.
    Guest(String),
}

impl World {
    pub fn product(&self, sku: &str, price_cents: i64, stock: i64) -> i64 {
        self.fakes.lock().unwrap().add_product(sku, price_cents, stock)
    }

    /// A cart of `lines` (product, quantity), each line reserved like the real cart does.
    pub fn cart(&self, customer: Option<&str>, lines: &[(i64, i64)]) -> (CartId, String) {
        let mut s = self.fakes.lock().unwrap();
        let id = CartId::new();
        let mut items = Vec::new();
        for &(product, qty) in lines {
            let r = s.reserve(product, qty, None, Some(id), 15).expect("stock for the cart");
            items.push(fakes::Line {
                id: Uuid::new_v4(),
                product_id: product,
                quantity: qty,
                reservation_id: Some(r),
            });
        }
        let token = Uuid::new_v4().simple().to_string();
        s.carts.insert(
            id.0,
            fakes::Cart {
                customer_id: customer.map(str::to_owned),
                token: token.clone(),
                lines: items,
                lock: None,
            },
        );
        (id, token)
    }

    /// A cart whose lines hold no reservation (the cart could not reserve: sold out when added).
    pub fn cart_unreserved(&self, customer: &str, lines: &[(i64, i64)]) -> CartId {
        let mut s = self.fakes.lock().unwrap();
        let id = CartId::new();
        let items = lines
            .iter()
            .map(|&(product, qty)| fakes::Line {
                id: Uuid::new_v4(),
                product_id: product,
                quantity: qty,
                reservation_id: None,
            })
            .collect();
        s.carts.insert(
            id.0,
            fakes::Cart {
                customer_id: Some(customer.to_owned()),
                token: String::new(),
                lines: items,
                lock: None,
            },
        );
        id
    }

    /// Adds a line holding no reservation to `cart`.
    pub fn add_unreserved_line(&self, cart: CartId, product: i64, quantity: i64) {
        let mut s = self.fakes.lock().unwrap();
        let line = fakes::Line { id: Uuid::new_v4(), product_id: product, quantity, reservation_id: None };
        s.carts.get_mut(&cart.0).unwrap().lines.push(line);
    }

    pub async fn checkout(&self, who: &Who, key: &str, body: &Value) -> (u16, Value) {
        let mut req = self.server.client.post(self.server.url("/api/v1/checkout")).json(body);
        if !key.is_empty() {
            req = req.header("idempotency-key", key);
        }
        req = match who {
            Who::Customer(sub) => req.bearer_auth(jwt(sub, &[])),
            Who::Guest(token) => req.header("x-cart-token", token),
        };
        testkit::http::send(req).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>, order_token: Option<&str>) -> (u16, Value) {
        let mut req = self.server.client.get(self.server.url(path));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        if let Some(t) = order_token {
            req = req.header("x-order-token", t);
        }
        testkit::http::send(req).await
    }

    pub async fn post(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self.server.client.post(self.server.url(path)).json(body);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        testkit::http::send(req).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.state.pool.get().await.unwrap();
        diesel::sql_query(sql).get_result::<Count>(&mut *conn).await.unwrap().n
    }

    /// The order row's `payment_status` and `status`.
    pub async fn order_state(&self, number: &str) -> (String, String) {
        let mut conn = self.state.pool.get().await.unwrap();
        let o = order::orders::repo::by_number(&mut conn, number).await.unwrap().unwrap();
        (o.payment_status, o.status)
    }

    pub async fn order_row(&self, number: &str) -> order::orders::repo::OrderRow {
        let mut conn = self.state.pool.get().await.unwrap();
        order::orders::repo::by_number(&mut conn, number).await.unwrap().unwrap()
    }

    /// Waits until the order's payment status is `want`.
    pub async fn wait_payment(&self, number: &str, want: &str) {
        wait_until(WAIT, &format!("payment status {want}"), || async {
            let (payment, _) = self.order_state(number).await;
            (payment == want).then_some(())
        })
        .await;
    }

    /// Confirms a PaymentIntent with a test card through the real client.
    pub async fn confirm(
        &self,
        pi: &str,
        card: &str,
    ) -> Result<stripe_shared::PaymentIntent, stripe::StripeError> {
        stripe_core::payment_intent::ConfirmPaymentIntent::new(pi)
            .payment_method(card)
            .send(&self.stripe_client)
            .await
    }

    /// Stripe's events not forwarded yet, through payment-webhook's mapping, published as its
    /// relay would (no order id when the object carries none): returns the envelopes.
    pub async fn forward_stripe_events(&self) -> Vec<Envelope> {
        use payment_webhook::webhook::normalize::{Mapping, map, read_event};
        let mut out = Vec::new();
        for event in self.stripe.events() {
            if !self.forwarded.lock().unwrap().insert(event.id.clone()) {
                continue;
            }
            let value = serde_json::to_value(&event).unwrap();
            let read = read_event(&value).unwrap();
            if let Mapping::Payment(p) = map(&read) {
                let envelope = p.envelope(p.order_id, &read).unwrap();
                testkit::events::publish(&self.broker, &envelope).await;
                out.push(envelope);
            }
        }
        out
    }

    /// Stripe's events not forwarded yet, oldest first (each is then counted as forwarded).
    pub fn take_stripe_events(&self) -> Vec<stripe_emulator::objects::Event> {
        let mut seen = self.forwarded.lock().unwrap();
        self.stripe.events().into_iter().filter(|e| seen.insert(e.id.clone())).collect()
    }

    /// One Stripe event through payment-webhook's mapping, published as its relay would; `None`
    /// for a type payment-webhook does not publish.
    pub async fn forward_event(&self, event: &stripe_emulator::objects::Event) -> Option<Envelope> {
        use payment_webhook::webhook::normalize::{Mapping, map, read_event};
        let value = serde_json::to_value(event).unwrap();
        let read = read_event(&value).unwrap();
        let Mapping::Payment(p) = map(&read) else { return None };
        let envelope = p.envelope(p.order_id, &read).unwrap();
        testkit::events::publish(&self.broker, &envelope).await;
        Some(envelope)
    }

    /// Waits until every one of `delivered` was consumed and no payment sync is queued: each
    /// hint delivered has been settled from Stripe.
    pub async fn wait_synced(&self, delivered: &[Envelope]) {
        let ids: Vec<String> = delivered.iter().map(|e| format!("'{}'", e.id.0)).collect();
        let consumed = if ids.is_empty() {
            "SELECT 0::bigint AS n".to_owned()
        } else {
            format!(
                "SELECT count(DISTINCT event_id) AS n FROM processed_events WHERE event_id IN ({})",
                ids.join(",")
            )
        };
        let distinct = delivered.iter().map(|e| e.id.0).collect::<HashSet<_>>().len();
        wait_until(WAIT, "the payment hints to be consumed and synced", || async {
            let done = usize::try_from(self.count(&consumed).await).unwrap_or(0);
            let queued = self.count("SELECT count(*) AS n FROM payment_syncs").await;
            (done == distinct && queued == 0).then_some(())
        })
        .await;
    }

    /// Publishes an envelope (as payment-webhook's relay would).
    pub async fn publish(&self, envelope: &Envelope) {
        testkit::events::publish(&self.broker, envelope).await;
    }

    /// Takes every order event published so far (after the outbox is empty).
    pub async fn order_events(&self) -> Vec<Envelope> {
        testkit::events::published(&self.broker, &self.observer, &self.state.pool).await
    }

    /// Makes a reservation lapse in the fake catalog (as its sweeper would).
    pub fn expire_reservation(&self, id: Uuid) {
        self.fakes.lock().unwrap().close(id, domain::inventory::ReservationStatus::Expired);
    }

    pub fn reservations_of_order(&self, order_id: i64) -> Vec<(Uuid, fakes::Res)> {
        let s = self.fakes.lock().unwrap();
        s.reservations
            .iter()
            .filter(|(_, r)| r.order_id == Some(order_id))
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    pub async fn stop(self) {
        self.server.shutdown().await;
    }
}
