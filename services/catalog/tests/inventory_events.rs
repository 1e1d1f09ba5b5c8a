//! The `catalog.orders` consumer against the real RabbitMQ and PostgreSQL: `order.paid` commits,
//! `order.canceled` / `order.expired` / `payment.failed` release; duplicates, events out of
//! order and unknown reservations change nothing and are acknowledged, not dead-lettered.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use catalog::inventory::consumer::{self, ReservationEvents};
use domain::events::{
    Envelope, EventPayload, OrderCanceled, OrderClosed, OrderExpired, OrderPaid, PaymentFacts, PaymentFailed,
};
use domain::ids::OrderId;
use domain::money::Currency;
use domain::order::OrderNumber;
use platform::events::{Broker, Consumer, QueueOptions};
use platform::shutdown::{self, ShutdownTrigger};
use serde_json::json;
use uuid::Uuid;

const CART: &str = "0b7d6b2e-7a1e-4d3c-9a51-2f1f0f6c9a10";
const WAIT: Duration = Duration::from_secs(30);

/// The app plus its consumer on a private exchange and queue.
struct World {
    app: common::App,
    broker: Arc<Broker>,
    queue: String,
    trigger: ShutdownTrigger,
    task: tokio::task::JoinHandle<()>,
}

impl World {
    async fn new() -> Self {
        let app = common::spawn().await;
        let names = testkit::broker_names();
        let broker = Arc::new(
            Broker::new(testkit::amqp_url(), names.exchange)
                .with_connection_name("catalog-inventory-test")
                .with_temporary_exchange(),
        );
        let mut options = consumer::options(&names.prefix);
        options.queue_options = QueueOptions { expires: Some(Duration::from_secs(120)) };
        options.base_backoff = Duration::from_millis(50);
        options.max_attempts = 2;
        let queue = options.queue.clone();
        let (trigger, stop) = shutdown::channel();
        let task = tokio::spawn(
            Consumer::new(app.state.pool.clone(), broker.clone(), options).run(ReservationEvents, stop),
        );
        testkit::events::wait_for_consumer(&broker, &queue).await;
        World { app, broker, queue, trigger, task }
    }

    async fn reserve(&self, product: i64, quantity: i64, order: Option<i64>) -> Uuid {
        let mut body = json!({"product_id": product, "quantity": quantity, "cart_id": CART});
        if let Some(o) = order {
            body["order_id"] = json!(o);
        }
        let (status, r) = self.app.internal_post("/internal/v1/reservations", &body).await;
        assert_eq!(status, 201, "{r}");
        r["id"].as_str().unwrap().parse().unwrap()
    }

    async fn status(&self, id: Uuid) -> String {
        self.app.internal_get(&format!("/internal/v1/reservations/{id}")).await.1["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Publishes and waits until the consumer has recorded the event as processed.
    async fn deliver(&self, envelope: &Envelope) {
        testkit::events::publish(&self.broker, envelope).await;
        self.wait_processed(envelope.id.0).await;
    }

    async fn wait_processed(&self, id: Uuid) {
        let sql = format!(
            "SELECT count(*) AS n FROM processed_events WHERE consumer = 'catalog.orders' AND event_id = '{id}'"
        );
        testkit::wait_until(WAIT, "the consumer to process the event", || async {
            (self.app.count(&sql).await == 1).then_some(())
        })
        .await;
    }

    async fn dlq_depth(&self) -> u32 {
        platform::events::dlq_depth(&self.broker, &self.queue).await.unwrap()
    }

    async fn stop(self) {
        self.trigger.trigger();
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("consumer stops").unwrap();
        self.broker.close().await;
    }
}

fn envelope<P: EventPayload>(payload: &P) -> Envelope {
    Envelope::new("order", payload, None).unwrap()
}

fn number(n: i64) -> OrderNumber {
    OrderNumber::from_random_bytes(n.to_be_bytes())
}

fn paid(order: i64, reservations: Vec<Uuid>) -> Envelope {
    envelope(&OrderPaid {
        order_id: OrderId(order),
        order_number: number(order),
        payment_intent_id: format!("pi_{order}"),
        amount_cents: 1000,
        currency: Currency::Usd,
        reservation_ids: reservations,
        cart_id: None,
    })
}

fn closed(order: i64, reservations: Vec<Uuid>) -> OrderClosed {
    OrderClosed {
        order_id: OrderId(order),
        order_number: number(order),
        reason: "customer_canceled".to_owned(),
        reservation_ids: reservations,
        cart_id: None,
    }
}

fn payment_failed(order: i64) -> Envelope {
    envelope(&PaymentFailed {
        payment: PaymentFacts {
            order_id: Some(OrderId(order)),
            payment_intent_id: format!("pi_{order}"),
            amount_cents: 1000,
            currency: Currency::Usd,
            stripe_event_id: format!("evt_{order}"),
            stripe_created: 1_764_000_000,
        },
        failure_code: Some("card_declined".to_owned()),
        failure_message: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_paid_commits_once_even_when_delivered_twice() {
    let w = World::new().await;
    // r1 belongs to order 77 by owner; r2 is a cart reservation the event lists by id.
    let r1 = w.reserve(3, 2, Some(77)).await;
    let r2 = w.reserve(3, 1, None).await;
    let other = w.reserve(3, 4, Some(78)).await;
    assert_eq!(w.app.counters(3).await, (42, 10));

    let event = paid(77, vec![r2]);
    w.deliver(&event).await;
    assert_eq!(w.app.counters(3).await, (39, 7), "3 units left stock, 3 fewer reserved");
    assert_eq!(
        (w.status(r1).await, w.status(r2).await, w.status(other).await),
        ("committed".into(), "committed".into(), "active".into())
    );

    // The same message again (a redelivery) and the same fact under a new id (a re-publish).
    testkit::events::publish(&w.broker, &event).await;
    let again = paid(77, vec![r1, r2]);
    w.deliver(&again).await;
    assert_eq!(w.app.counters(3).await, (39, 7), "nothing committed twice");
    assert_eq!(w.app.count("SELECT count(*) AS n FROM processed_events").await, 2);
    assert_eq!(w.dlq_depth().await, 0);
    w.stop().await;
}

/// Issue 17, item 1: a late payment reserves again and lists the new ids; the order's lapsed
/// reservations, still `active` because the sweeper has not run yet, must be expired — not
/// committed alongside the new ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_payment_commits_what_it_lists_and_never_a_lapsed_reservation() {
    let w = World::new().await;
    let lapsed = w.reserve(2, 3, Some(91)).await;
    let fresh = w.reserve(2, 3, Some(91)).await;
    let before = w.app.counters(2).await;
    w.app
        .exec(&format!(
            "UPDATE reservations SET expires_at = now() - interval '1 minute' WHERE id = '{lapsed}'"
        ))
        .await;

    w.deliver(&paid(91, vec![fresh])).await;
    assert_eq!((w.status(lapsed).await.as_str(), w.status(fresh).await.as_str()), ("expired", "committed"));
    assert_eq!(
        w.app.counters(2).await,
        (before.0 - 3, before.1 - 6),
        "3 units sold once; the lapsed 3 are back on sale"
    );

    // A listed reservation that lapsed a moment ago is still the order's: its units never left.
    let listed = w.reserve(2, 2, Some(92)).await;
    w.app
        .exec(&format!(
            "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = '{listed}'"
        ))
        .await;
    w.deliver(&paid(92, vec![listed])).await;
    assert_eq!(w.status(listed).await, "committed");
    assert_eq!(w.app.counters(2).await, (before.0 - 5, before.1 - 6));
    assert_eq!(w.dlq_depth().await, 0);
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_expire_and_failed_payment_release_and_late_events_change_nothing() {
    let w = World::new().await;
    let canceled = w.reserve(1, 5, Some(81)).await;
    let expired = w.reserve(1, 3, Some(82)).await;
    let failed = w.reserve(1, 2, Some(83)).await;
    let paid_first = w.reserve(1, 1, Some(84)).await;
    assert_eq!(w.app.counters(1).await, (150, 16));

    w.deliver(&envelope(&OrderCanceled(closed(81, vec![canceled])))).await;
    w.deliver(&envelope(&OrderExpired(closed(82, vec![])))).await;
    w.deliver(&payment_failed(83)).await;
    assert_eq!(w.app.counters(1).await, (150, 6), "5 + 3 + 2 released");
    for id in [canceled, expired, failed] {
        assert_eq!(w.status(id).await, "released");
    }

    // Out of order: a payment for an order whose stock was released commits nothing ...
    w.deliver(&paid(81, vec![canceled])).await;
    assert_eq!((w.status(canceled).await.as_str(), w.app.counters(1).await), ("released", (150, 6)));
    // ... and a cancellation after the payment does not undo the commit.
    w.deliver(&paid(84, vec![])).await;
    assert_eq!(w.app.counters(1).await, (149, 5));
    w.deliver(&envelope(&OrderCanceled(closed(84, vec![paid_first])))).await;
    w.deliver(&payment_failed(84)).await;
    assert_eq!((w.status(paid_first).await.as_str(), w.app.counters(1).await), ("committed", (149, 5)));
    assert_eq!(w.dlq_depth().await, 0);
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_reservations_are_acknowledged_and_malformed_events_dead_lettered() {
    let w = World::new().await;
    let before = w.app.counters(2).await;
    let unknown = paid(999, vec![Uuid::now_v7(), Uuid::now_v7()]);
    w.deliver(&unknown).await;
    w.deliver(&envelope(&OrderCanceled(closed(998, vec![Uuid::now_v7()])))).await;
    w.deliver(&payment_failed(997)).await;
    assert_eq!(w.app.counters(2).await, before);
    assert_eq!(w.dlq_depth().await, 0, "unknown reservations are not an error");
    assert_eq!(
        w.app.count("SELECT count(*) AS n FROM outbox").await,
        3,
        "only the seed's product.created events"
    );

    // An order.paid whose body is not an OrderPaid can never succeed: straight to the DLQ.
    let mut broken = paid(1, vec![]);
    broken.data = json!({"order_id": "not a number"});
    testkit::events::publish(&w.broker, &broken).await;
    testkit::wait_until(WAIT, "the malformed event in the DLQ", || async {
        (w.dlq_depth().await == 1).then_some(())
    })
    .await;
    w.stop().await;
}
