//! Reservations write `inventory.changed` without `NOTIFY` (docs/adr/0021, issue 21) and wake
//! their process's relay after the commit instead: with the relay's safety-net poll an hour
//! away, the event is still published at once.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use platform::events::RelayOptions;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
const UNPUBLISHED: &str = "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_wakes_its_relay_without_notify() {
    let relay = RelayOptions { poll_interval: Duration::from_secs(3600), ..RelayOptions::default() };
    let (app, _) =
        common::spawn_opts(common::Options { relay: Some(relay), ..common::Options::default() }).await;
    // The relay's first round (at start) has emptied the outbox of the seed's events.
    testkit::wait_until(WAIT, "the relay's first round", || async {
        (app.count(UNPUBLISHED).await == 0).then_some(())
    })
    .await;

    let body = json!({"product_id": 1, "quantity": 2, "cart_id": "0b7d6b2e-7a1e-4d3c-9a51-2f1f0f6c9a10"});
    let (status, r) = app.internal_post("/internal/v1/reservations", &body).await;
    assert_eq!(status, 201, "{r}");
    let written = app.count("SELECT count(*) AS n FROM outbox WHERE event_type = 'inventory.changed'").await;
    assert!(written >= 1, "the reservation wrote its inventory.changed");
    testkit::wait_until(WAIT, "inventory.changed published without waiting for the poll", || async {
        (app.count(UNPUBLISHED).await == 0).then_some(())
    })
    .await;

    let id = r["id"].as_str().unwrap();
    let (status, r) =
        app.internal_post(&format!("/internal/v1/reservations/{id}/resize"), &json!({"quantity": 3})).await;
    assert_eq!(status, 200, "{r}");
    testkit::wait_until(WAIT, "the resize's event published as well", || async {
        (app.count(UNPUBLISHED).await == 0).then_some(())
    })
    .await;
    let published =
        app.count("SELECT count(*) AS n FROM outbox WHERE event_type = 'inventory.changed'").await;
    assert_eq!(published, written + 1, "one event per change");
}
