//! RabbitMQ away when Stripe calls: the webhook still answers 200 at once (nothing waits on
//! the broker), and the relay publishes the event, once, when the broker is back.
//!
//! The relay reaches RabbitMQ through a TCP proxy the test cuts and restores, so the shared
//! broker is never touched.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::net::SocketAddr;

use common::fixtures::{event_id, payment_intent_event};
use common::{Options, WAIT};
use testkit::{TcpProxy, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_in_the_outbox_while_the_broker_is_down_and_are_published_once_it_is_back() {
    let broker: SocketAddr = "127.0.0.1:5672".parse().unwrap();
    let proxy = TcpProxy::start(broker, false).await;
    let url = format!("amqp://guest:guest@{}/%2f", proxy.addr());
    let app = common::spawn_with(Options { relay_amqp_url: url, ..Options::default() }).await;

    let id = event_id();
    let (status, json) = app.deliver(&payment_intent_event(&id, "succeeded", "pi_down", Some("31"))).await;
    assert_eq!((status, json["outcome"].as_str()), (200, Some("published")), "{json}");
    assert_eq!(app.stored().await, 1);

    // The relay tried and was refused; the event waits in the outbox.
    wait_until(WAIT, "the relay to try the broker", || async { (proxy.refused() >= 1).then_some(()) }).await;
    let pending = "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL";
    assert_eq!(app.count(pending).await, 1);

    // A replay while the broker is still down changes nothing.
    let (status, json) = app.deliver(&payment_intent_event(&id, "succeeded", "pi_down", Some("31"))).await;
    assert_eq!((status, json["outcome"].as_str()), (200, Some("duplicate")));

    proxy.set_up();
    let published = app.published().await;
    assert_eq!(published.len(), 1, "published once the broker is back, exactly once");
    assert_eq!(published[0].event_type, "payment.succeeded");
    assert_eq!(published[0].data["stripe_event_id"], id.as_str());
    assert_eq!(published[0].data["order_id"], 31);
}
