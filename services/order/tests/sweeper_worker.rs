//! The sweeper (expiry, reconciliation, replicas sharing) and the worker's emails (once).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use common::{Who, World, checkout_body};
use domain::events::{Envelope, OrderPaid};
use order::sweeper::sweep_once;
use order::worker::repo::queue_email;
use testkit::wait_until;

async fn place(w: &World, sku: &str) -> (String, String) {
    let p = w.product(sku, 1500, 10);
    let (cart, _) = w.cart(Some("sam"), &[(p, 1)]);
    let (status, body) =
        w.checkout(&Who::Customer("sam".into()), &format!("k-{sku}"), &checkout_body(cart)).await;
    assert_eq!(status, 201, "{body}");
    (
        body["order_number"].as_str().unwrap().to_owned(),
        body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
    )
}

async fn make_due(w: &World, number: &str) {
    w.count(&format!(
        "WITH u AS (UPDATE orders SET expires_at = now() - interval '1 second' WHERE order_number = '{number}' RETURNING 1) \
         SELECT count(*) AS n FROM u"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unpaid_checkouts_expire_once_even_with_two_sweepers() {
    let w = common::spawn().await;
    let mut orders = Vec::new();
    for i in 0..6 {
        orders.push(place(&w, &format!("SKU-EXP{i}")).await);
    }
    for (n, _) in &orders {
        make_due(&w, n).await;
    }
    let (a, b) = tokio::join!(sweep_once(&w.state), sweep_once(&w.state));
    assert_eq!(a.unwrap().expired + b.unwrap().expired, 6, "each order once");
    for (n, pi) in &orders {
        assert_eq!(w.order_state(n).await.1, "expired");
        assert_eq!(w.state.stripe.retrieve(pi).await.unwrap().status, "canceled");
    }
    let expired = w.order_events().await.iter().filter(|e| e.event_type == "order.expired").count();
    assert_eq!(expired, 6);
    assert_eq!(sweep_once(&w.state).await.unwrap().expired, 0, "nothing left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_webhook_is_reconciled_from_stripe() {
    let w = common::spawn_with(common::Options {
        vars: vec![("ORDER_RECONCILE_AFTER_SECONDS", "0".into())],
        ..common::Options::default()
    })
    .await;
    // Paid at Stripe, the webhook never came; the session ran out.
    let (due, due_pi) = place(&w, "SKU-LOST1").await;
    w.confirm(&due_pi, "pm_card_visa").await.unwrap();
    make_due(&w, &due).await;
    // Paid at Stripe, the order stuck in `processing`.
    let (stuck, stuck_pi) = place(&w, "SKU-LOST2").await;
    w.confirm(&stuck_pi, "pm_card_visa").await.unwrap();
    w.count(&format!(
        "WITH u AS (UPDATE orders SET payment_status = 'processing', updated_at = now() - interval '1 hour' \
         WHERE order_number = '{stuck}' RETURNING 1) SELECT count(*) AS n FROM u"
    ))
    .await;
    let swept = sweep_once(&w.state).await.unwrap();
    // Both queued for the payment sync (the expiry found the money moved; the stuck one is due).
    assert_eq!(swept.reconciled, 2, "{swept:?}");
    w.wait_payment(&due, "completed").await;
    w.wait_payment(&stuck, "completed").await;
    assert_eq!(w.order_state(&due).await, ("completed".into(), "paid".into()));
    assert_eq!(w.order_state(&stuck).await, ("completed".into(), "paid".into()));
    let audit = w.count("SELECT count(*) AS n FROM payment_repairs WHERE origin = 'sweeper'").await;
    assert!(audit >= 2, "each repair has an audit row");
    let paid = w.order_events().await.iter().filter(|e| e.is::<OrderPaid>()).count();
    assert_eq!(paid, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_worker_sends_one_email_per_paid_order_even_when_the_event_repeats() {
    let w = common::spawn().await;
    let sink = common::smtp::start().await;
    // `order worker` as the binary runs it: same database and exchange as `order serve`.
    let mut vars: Vec<(String, String)> = vec![("SMTP_URL".into(), sink.url.clone())];
    vars.push(("MAIL_FROM".into(), "shop@example.com".into()));
    let settings = order::config::OrderSettings::from_vars(platform::config::AppEnv::Test, vars).unwrap();
    let config = order::config::OrderConfig { base: w.server.resources().base.clone(), service: settings };
    let worker = testkit::spawn_service(&order::INFO, config.base.clone(), |res| {
        order::worker::describe(&config, res)
    })
    .await;
    testkit::events::wait_for_consumer(&w.broker, &worker.queue(order::worker::QUEUE)).await;
    for probe in ["/health", "/ready", "/metrics"] {
        let res = worker.client.get(worker.url(probe)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "worker {probe}");
    }

    let (number, pi) = place(&w, "SKU-MAIL").await;
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    w.forward_stripe_events().await;
    w.wait_payment(&number, "completed").await;
    wait_until(common::WAIT, "the confirmation email", || async {
        (!sink.mails.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    // The same order.paid again, as a new message (another relay, a replay): no second email.
    let paid: Envelope = w.order_events().await.into_iter().find(Envelope::is::<OrderPaid>).unwrap();
    let mut copy = paid.clone();
    copy.id = domain::ids::EventId::new();
    w.publish(&paid).await;
    w.publish(&copy).await;
    wait_until(common::WAIT, "the repeats to be consumed", || async {
        (w.count("SELECT count(*) AS n FROM processed_events WHERE consumer = 'order.notifications'").await
            >= 2)
            .then_some(())
    })
    .await;
    // One row per order and kind is the guarantee; nothing is left to send.
    wait_until(common::WAIT, "the queue to drain", || async {
        (w.count("SELECT count(*) AS n FROM email_notifications WHERE status IN ('pending', 'sending')")
            .await
            == 0)
            .then_some(())
    })
    .await;
    assert_eq!(w.count("SELECT count(*) AS n FROM email_notifications").await, 1);
    let mails = sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, ["buyer@example.com"]);
    assert!(mails[0].data.contains(&number), "{}", mails[0].data);
    assert!(mails[0].data.contains("$15.00"), "{}", mails[0].data);
    assert_eq!(w.count("SELECT count(*) AS n FROM email_notifications WHERE status = 'sent'").await, 1);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_smtp_server_is_retried_later() {
    let w = common::spawn().await;
    let (number, _) = place(&w, "SKU-RETRY").await;
    let order = w.order_row(&number).await;
    let mail = order::worker::email::closed(&order, true);
    let mut conn = w.state.pool.get().await.unwrap();
    assert!(
        queue_email(&mut conn, "test:1", order.order_id(), "order.expired", "x@example.com", &mail)
            .await
            .unwrap()
    );
    assert!(
        !queue_email(&mut conn, "test:1", order.order_id(), "order.expired", "x@example.com", &mail)
            .await
            .unwrap()
    );
    drop(conn);
    // Nothing listens on this port.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = order::worker::sender::Sender::new(
        w.state.pool.clone(),
        &format!("smtp://{dead}"),
        "shop@example.com",
        w.emails.clone(),
    )
    .unwrap();
    assert_eq!(down.send_one().await.unwrap(), order::worker::sender::Sent::Retry);
    assert_eq!(
        w.count("SELECT count(*) AS n FROM email_notifications WHERE status = 'pending' AND attempts = 1")
            .await,
        1
    );
    w.count("WITH u AS (UPDATE email_notifications SET next_attempt_at = now() RETURNING 1) SELECT count(*) AS n FROM u").await;
    let sink = common::smtp::start().await;
    let up = order::worker::sender::Sender::new(
        w.state.pool.clone(),
        &sink.url,
        "shop@example.com",
        w.emails.clone(),
    )
    .unwrap();
    assert_eq!(up.send_one().await.unwrap(), order::worker::sender::Sent::Sent);
    assert_eq!(up.send_one().await.unwrap(), order::worker::sender::Sent::Idle);
    assert_eq!(sink.mails.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_three_d_secure_payment_abandoned_until_expiry_is_canceled_and_expired() {
    let w = common::spawn().await;
    let (number, pi) = place(&w, "SKU-3DS-GONE").await;
    let pending = w.confirm(&pi, "pm_card_threeDSecure2Required").await.unwrap();
    assert_eq!(pending.status.as_str(), "requires_action");
    w.forward_stripe_events().await;
    // The consumer holds the order's row while it applies the event, and the sweeper skips
    // locked rows: let the event land first.
    wait_until(common::WAIT, "the requires_action event to be applied", || async {
        (w.count("SELECT count(*) AS n FROM payment_status_history").await >= 1).then_some(())
    })
    .await;
    make_due(&w, &number).await;
    assert_eq!(sweep_once(&w.state).await.unwrap().expired, 1);
    let (payment, status) = w.order_state(&number).await;
    assert_eq!(status, "expired");
    // The same pass queues recent orders for a comparison with Stripe, and the app's payment
    // sync runs beside the test: it may already have read the cancellation.
    assert!(matches!(payment.as_str(), "pending" | "failed"), "payment {payment}");
    assert_eq!(w.state.stripe.retrieve(&pi).await.unwrap().status, "canceled", "it can no longer be paid");
    // Stripe's payment_intent.canceled then arrives: the payment is marked failed, nothing else.
    w.forward_stripe_events().await;
    w.wait_payment(&number, "failed").await;
    assert_eq!(w.order_state(&number).await.1, "expired");
}

/// Queues one email for a fresh order; returns the order id.
async fn queued_email(w: &World, sku: &str, key: &str) -> i64 {
    let (number, _) = place(w, sku).await;
    let order = w.order_row(&number).await;
    let mail = order::worker::email::closed(&order, true);
    let mut conn = w.state.pool.get().await.unwrap();
    assert!(
        queue_email(&mut conn, key, order.order_id(), "order.expired", "x@example.com", &mail).await.unwrap()
    );
    order.id
}

fn sender(w: &World, url: &str) -> order::worker::sender::Sender {
    order::worker::sender::Sender::new(w.state.pool.clone(), url, "shop@example.com", w.emails.clone())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_send_cut_off_mid_message_is_resent_with_the_same_message_id() {
    use order::worker::sender::Sent;
    let w = common::spawn().await;
    queued_email(&w, "SKU-CUT", "test:cut").await;
    // The server takes the message, then the connection drops before its answer.
    let sink = common::smtp::start_dropping(1).await;
    let s = sender(&w, &sink.url);
    assert_eq!(s.send_one().await.unwrap(), Sent::Unknown);
    assert_eq!(w.count("SELECT count(*) AS n FROM email_notifications WHERE status = 'unknown'").await, 1);
    // Due again after its back-off: resent, and recorded as sent.
    w.count("WITH u AS (UPDATE email_notifications SET next_attempt_at = now() RETURNING 1) SELECT count(*) AS n FROM u").await;
    assert_eq!(s.send_one().await.unwrap(), Sent::Sent);
    assert_eq!(s.send_one().await.unwrap(), Sent::Idle);
    assert_eq!(w.count("SELECT count(*) AS n FROM email_notifications WHERE status = 'sent'").await, 1);
    let mails = sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 2, "at least once: both copies reached the server");
    let id = |m: &common::smtp::Mail| {
        m.data.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:")).map(str::to_owned)
    };
    assert!(id(&mails[0]).is_some());
    assert_eq!(id(&mails[0]), id(&mails[1]), "one Message-ID: mail clients fold the copies");
    let metrics = w.server.client.get(w.server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("order_emails_total{outcome=\"possible_duplicate\"} 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_email_claimed_by_a_sender_that_died_is_sent_by_another() {
    use order::worker::sender::Sent;
    let w = common::spawn().await;
    queued_email(&w, "SKU-DIED", "test:died").await;
    // A sender claimed it and was killed before sending (or before recording the send).
    w.count("WITH u AS (UPDATE email_notifications SET status = 'sending', attempts = 1, sending_since = now() - interval '2 minutes' RETURNING 1) SELECT count(*) AS n FROM u").await;
    let sink = common::smtp::start().await;
    assert_eq!(sender(&w, &sink.url).send_one().await.unwrap(), Sent::Sent);
    assert_eq!(w.count("SELECT count(*) AS n FROM email_notifications WHERE status = 'sent'").await, 1);
    assert_eq!(sink.mails.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_email_sent_while_the_database_is_down_is_recorded_sent_once_it_is_back() {
    use order::worker::sender::Sent;
    let w = common::spawn().await;
    queued_email(&w, "SKU-DBDOWN", "test:dbdown").await;
    // The sender reaches PostgreSQL through a proxy the SMTP server takes down as it accepts the
    // message, and brings it back once the sender has been refused a connection.
    let proxy = Arc::new(testkit::TcpProxy::start("127.0.0.1:5432".parse().unwrap(), true).await);
    let url = w.db.url().replace("127.0.0.1:5432", &proxy.addr().to_string());
    let pool = platform::db::pool(&url, order::SCHEMA, platform::db::PoolOptions::default()).unwrap();
    let cut = proxy.clone();
    let sink = common::smtp::start_with_hook(Arc::new(move || {
        cut.set_down();
        let back = cut.clone();
        tokio::spawn(async move {
            // Back once the sender has met the outage (a connection refused while recording).
            testkit::wait_until(
                std::time::Duration::from_secs(20),
                "the sender to meet the outage",
                || async { (back.refused() > 0).then_some(()) },
            )
            .await;
            back.set_up();
        });
    }))
    .await;
    let s =
        order::worker::sender::Sender::new(pool, &sink.url, "shop@example.com", w.emails.clone()).unwrap();
    assert_eq!(s.send_one().await.unwrap(), Sent::Sent);
    assert!(proxy.refused() > 0, "the database really was unreachable while the send was recorded");
    assert_eq!(w.count("SELECT count(*) AS n FROM email_notifications WHERE status = 'sent'").await, 1);
    assert_eq!(sink.mails.lock().unwrap().len(), 1, "sent once, recorded once");
}
