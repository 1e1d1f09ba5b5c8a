//! The real binary: migrate, serve with its own relay, count refusals in /metrics, log them
//! without body or secret, publish accepted events, and exit 0 on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};

use common::WAIT;
use common::fixtures::{event_id, payment_intent_event};
use domain::stripe_signature::header_value;
use lapin::options::{BasicGetOptions, ExchangeDeleteOptions};
use platform::events::Broker;
use testkit::{TestDb, wait_until};

const SECRETS: &str = "whsec_lifecycle_new,whsec_lifecycle_old";

fn binary(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payment-webhook"));
    cmd.env_clear().env("DATABASE_URL", db.url()).env("AMQP_URL", testkit::amqp_url());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_serve_refuse_accept_publish_and_drain_on_sigterm() {
    let db = TestDb::new("payments", payment_webhook::MIGRATIONS).await;
    let out = binary(&db).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "payment-webhook: 0 migration(s) applied");

    // The relay declares the exchange durable: a name of its own, deleted at the end.
    let names = testkit::broker_names();
    let broker = Broker::new(testkit::amqp_url(), names.exchange.clone());
    let queue = format!("{}lifecycle", names.prefix);
    common::observe_payments(&broker, &queue).await;

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = binary(&db)
        .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("STRIPE_WEBHOOK_SECRET", SECRETS)
        .env("AMQP_EXCHANGE", &names.exchange)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until(WAIT, "the service to be ready", || {
        let (client, base) = (client.clone(), base.clone());
        async move { (client.get(format!("{base}/ready")).send().await.ok()?.status() == 200).then_some(()) }
    })
    .await;

    let send_webhook = |body: Vec<u8>, signature: String| {
        client.post(format!("{base}/webhooks/stripe")).header("stripe-signature", signature).body(body).send()
    };
    let now = chrono::Utc::now().timestamp();
    let forged = br#"{"id": "evt_forged", "marker": "BODY-MARKER-7f3a"}"#.to_vec();
    let res = send_webhook(forged.clone(), header_value("whsec_attacker", now, &forged)).await.unwrap();
    assert_eq!(res.status(), 400);

    let id = event_id();
    let good = serde_json::to_vec(&payment_intent_event(&id, "succeeded", "pi_life", Some("9"))).unwrap();
    // Signed with the second (older) configured secret: both are in force.
    let res = send_webhook(good.clone(), header_value("whsec_lifecycle_old", now, &good)).await.unwrap();
    assert_eq!(res.status(), 200);
    let message = wait_until(WAIT, "the payment event on the queue", || async {
        let channel = broker.channel().await.ok()?;
        channel.basic_get(queue.as_str().into(), BasicGetOptions::default()).await.ok()?
    })
    .await;
    let envelope: serde_json::Value = serde_json::from_slice(&message.delivery.data).unwrap();
    assert_eq!(
        (envelope["type"].as_str(), envelope["data"]["stripe_event_id"].as_str()),
        (Some("payment.succeeded"), Some(id.as_str()))
    );

    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"payment_webhook_rejected_total{reason="signature_mismatch"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"payment_webhook_events_total{outcome="published"} 1"#), "{metrics}");

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let exit = wait_until(WAIT, "the process to exit", || {
        let exited = child.try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    let out = child.stdout.take().unwrap();
    let logs = tokio::task::spawn_blocking(move || std::io::read_to_string(out).unwrap()).await.unwrap();
    let warning = logs
        .lines()
        .find(|l| l.contains("stripe webhook refused"))
        .unwrap_or_else(|| panic!("no refusal warning in:\n{logs}"));
    assert!(warning.contains("WARN") && warning.contains("signature_mismatch"), "{warning}");
    for secret_or_body in ["whsec_lifecycle", "whsec_attacker", "BODY-MARKER-7f3a", "evt_forged"] {
        assert!(!logs.contains(secret_or_body), "{secret_or_body} leaked into the logs:\n{logs}");
    }

    let channel = broker.channel().await.unwrap();
    let _ = channel.exchange_delete(names.exchange.as_str().into(), ExchangeDeleteOptions::default()).await;
    broker.close().await;
}
