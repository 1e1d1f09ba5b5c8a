//! Concurrent delivery: with `concurrency` above 1 (as `stripe-emulator serve` runs, like
//! Stripe), an endpoint that is slow to answer one event does not hold up the next: a second
//! delivery arrives while the first is still in flight.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use common::{Stripe, fast_retry};
use stripe_emulator::EmulatorConfig;

#[derive(Default)]
struct Hook {
    in_flight: AtomicUsize,
    overlapped: AtomicBool,
    answered: AtomicUsize,
    second: tokio::sync::Notify,
}

async fn receive(hook: web::Data<Hook>) -> HttpResponse {
    let before = hook.in_flight.fetch_add(1, Ordering::SeqCst);
    if before == 0 && !hook.overlapped.load(Ordering::SeqCst) {
        // The first one waits (bounded) for another delivery to arrive meanwhile.
        let _ = tokio::time::timeout(Duration::from_secs(5), hook.second.notified()).await;
    } else {
        hook.overlapped.store(true, Ordering::SeqCst);
        hook.second.notify_waiters();
    }
    hook.in_flight.fetch_sub(1, Ordering::SeqCst);
    hook.answered.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_does_not_hold_up_the_next_event() {
    let hook = web::Data::new(Hook::default());
    let data = hook.clone();
    let server =
        HttpServer::new(move || App::new().app_data(data.clone()).route("/hook", web::post().to(receive)))
            .workers(2)
            .bind(("127.0.0.1", 0))
            .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    let mut retry = fast_retry(3);
    retry.concurrency = 8;
    let s = Stripe::start_with(EmulatorConfig {
        webhook_endpoints: vec![(format!("http://{addr}/hook"), "whsec_c".to_owned())],
        retry,
    })
    .await;
    s.create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true")]).await;
    // The emulator logs a delivery once the answer is in: wait for three first attempts there.
    testkit::wait_until(common::DEADLINE, "three events delivered on their first attempt", || async {
        let firsts = s.em.deliveries().into_iter().filter(|d| d.attempt == 1 && d.succeeded).count();
        (firsts == 3).then_some(())
    })
    .await;
    assert_eq!(hook.answered.load(Ordering::SeqCst), 3, "each delivered once");
    assert!(
        hook.overlapped.load(Ordering::SeqCst),
        "a second delivery arrived while the first was in flight"
    );
}
