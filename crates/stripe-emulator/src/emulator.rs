//! The emulator as a value: its store, clock and webhook dispatcher, and how to run it as an
//! HTTP server (in a binary or inside a test, on a random port).

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};

use crate::clock::Clock;
use crate::error::ApiError;
use crate::objects::Event;
use crate::store::{Ctx, Endpoint, Store};
use crate::trigger::TriggerRequest;
use crate::webhooks::{DeliveryAttempt, Dispatcher, RetryPolicy};

/// How an emulator is set up.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Webhook endpoints known from the start: (url, signing secret).
    pub webhook_endpoints: Vec<(String, String)>,
    /// Delivery retries.
    pub retry: RetryPolicy,
}

/// Shared state behind every request.
pub struct Emulator {
    store: Mutex<Store>,
    /// The emulator's clock (advance it to expire idempotency keys).
    pub clock: Arc<Clock>,
    dispatcher: Dispatcher,
}

impl Emulator {
    /// A fresh emulator; must be called inside a Tokio runtime (it starts the delivery worker).
    pub fn new(config: &EmulatorConfig) -> Arc<Self> {
        let clock = Arc::new(Clock::default());
        let dispatcher = Dispatcher::start(config.retry, Arc::clone(&clock));
        let emulator = Arc::new(Self { store: Mutex::new(Store::default()), clock, dispatcher });
        for (url, secret) in &config.webhook_endpoints {
            emulator.add_endpoint(url, Some(secret.clone()));
        }
        emulator
    }

    /// Runs `f` on the store under its lock, then queues the events it caused for delivery
    /// (after the lock is released).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let (result, events, endpoints) = {
            let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            let result = f(&mut store);
            (result, store.take_outbox(), store.endpoints.clone())
        };
        for event in &events {
            self.dispatcher.enqueue(event, &endpoints);
        }
        result
    }

    /// Registers a webhook endpoint for every event type; without a secret one is generated.
    pub fn add_endpoint(&self, url: &str, secret: Option<String>) -> Endpoint {
        let now = self.clock.now();
        self.with_store(|s| s.add_endpoint(url, secret, vec!["*".to_owned()], now))
    }

    /// The configured endpoints.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.with_store(|s| s.endpoints.clone())
    }

    /// Delivers existing events again, in the order given (duplicates and out-of-order
    /// delivery); an unknown id is Stripe's 404 and delivers nothing.
    pub fn redeliver(&self, ids: &[String]) -> Result<(), ApiError> {
        let (events, endpoints) = self.with_store(|s| {
            let events: Result<Vec<Event>, ApiError> = ids
                .iter()
                .map(|id| s.event(id).cloned().ok_or_else(|| ApiError::no_such("event", id, "events")))
                .collect();
            (events, s.endpoints.clone())
        });
        for event in &events? {
            self.dispatcher.enqueue(event, &endpoints);
        }
        Ok(())
    }

    /// Every event so far, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.with_store(|s| s.events().to_vec())
    }

    /// Every webhook delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.dispatcher.attempts()
    }
}

/// An emulator serving HTTP.
pub struct RunningEmulator {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The emulator's state, for direct inspection in tests.
    pub emulator: Arc<Emulator>,
    handle: ServerHandle,
}

impl RunningEmulator {
    /// Starts an emulator on 127.0.0.1 with a random port, inside the current Tokio runtime.
    #[allow(clippy::unused_async)] // async: it must run inside a Tokio runtime, which it spawns on
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Self> {
        Self::start_on(TcpListener::bind("127.0.0.1:0")?, &config)
    }

    /// Starts an emulator on a bound listener.
    pub fn start_on(listener: TcpListener, config: &EmulatorConfig) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let emulator = Emulator::new(config);
        let server = server(listener, Arc::clone(&emulator), 2)?;
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { base_url: format!("http://{addr}"), addr, emulator, handle })
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Registers a webhook endpoint and returns it (with its secret).
    pub fn add_webhook_endpoint(&self, url: &str, secret: Option<String>) -> Endpoint {
        self.emulator.add_endpoint(url, secret)
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Event> {
        self.emulator.events()
    }

    /// Every delivery attempt so far.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.emulator.deliveries()
    }

    /// Like `stripe trigger`: see [`TriggerRequest`]. Returns the PaymentIntent involved and
    /// the ids of the events sent.
    pub fn trigger(&self, req: &TriggerRequest) -> Result<(String, Vec<String>), ApiError> {
        let ctx =
            Ctx { now: self.emulator.clock.now(), request_id: None, idempotency_key: None, origin: None };
        self.emulator.with_store(|s| s.trigger(&ctx, req))
    }

    /// Delivers existing events again, in the order given (duplicates, out-of-order).
    pub fn redeliver(&self, event_ids: &[String]) -> Result<(), ApiError> {
        self.emulator.redeliver(event_ids)
    }

    /// Stops the server gracefully.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// The HTTP server: Stripe's API under `/v1`, the control API under `/_emulator`, `/health`.
pub fn server(
    listener: TcpListener,
    emulator: Arc<Emulator>,
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    let data = web::Data::from(emulator);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(crate::control::routes)
            .configure(crate::hosted::routes)
            .configure(crate::api::routes)
    })
    .workers(workers.max(1))
    .listen(listener)?
    .run())
}
