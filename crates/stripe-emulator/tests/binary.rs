//! The `stripe-emulator` binary as `make dev` runs it: configured from the environment,
//! delivering signed webhooks, stopping cleanly on SIGTERM; bad configuration refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the failure report

mod common;

use std::process::{Command, Stdio};

use common::{DEADLINE, KEY, Receiver};
use domain::stripe_signature::{self, DEFAULT_TOLERANCE_SECS};

/// Our child process, killed if the test fails before it stops it, so nothing outlives a test.
struct Reaped(std::sync::Mutex<std::process::Child>);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(mut c) = self.0.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_from_env_delivers_signed_webhooks_and_stops_on_sigterm() {
    let hook = Receiver::start(0);
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_stripe-emulator"))
        .env_clear()
        .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("STRIPE_WEBHOOK_URL", hook.url())
        .env("STRIPE_WEBHOOK_SECRET", "whsec_signing,whsec_previous")
        .env("WEBHOOK_RETRY_BASE_MS", "20")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Reaped(std::sync::Mutex::new(child));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    testkit::wait_until(DEADLINE, "the emulator's /health", || async {
        http.get(format!("{base}/health")).send().await.ok().filter(|r| r.status().is_success())
    })
    .await;
    let pi: serde_json::Value = http
        .post(format!("{base}/v1/payment_intents"))
        .bearer_auth(KEY)
        .body("amount=1500&currency=eur&metadata[order_id]=11&payment_method=pm_card_visa&confirm=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pi["status"], "succeeded");
    let got = hook.wait_for_ok(3).await;
    let now =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
            .unwrap();
    for r in &got {
        let v =
            stripe_signature::verify(&r.signature, &r.body, &["whsec_signing"], now, DEFAULT_TOLERANCE_SECS);
        assert!(v.is_ok(), "{v:?}");
    }
    assert_eq!(got[2].event["data"]["object"]["metadata"]["order_id"], "11");

    let term =
        Command::new("kill").args(["-TERM", &child.0.lock().unwrap().id().to_string()]).status().unwrap(); // our own child
    assert!(term.success());
    let status = testkit::wait_until(DEADLINE, "the emulator to exit after SIGTERM", || {
        let exited = child.0.lock().unwrap().try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert!(status.success(), "{status:?}");
}

#[test]
fn refuses_a_webhook_url_without_a_secret() {
    let out = Command::new(env!("CARGO_BIN_EXE_stripe-emulator"))
        .env_clear()
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("STRIPE_WEBHOOK_URL", "http://127.0.0.1:9/hook")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("STRIPE_WEBHOOK_SECRET"));
}
