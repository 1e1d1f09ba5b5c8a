//! Load generator for `scripts/bench/webhook.sh`: fires signed, unique Stripe events at a
//! running payment-webhook over loopback for a fixed time, then counts every accepted event
//! on a queue bound to `payment.#` (accepted = published, no duplicates).
//!
//! ```sh
//! webhook_load --url http://127.0.0.1:18184/webhooks/stripe --secret whsec_bench \
//!     --amqp-url amqp://guest:guest@127.0.0.1:5672/%2f --exchange bench.webhook --seconds 10 --connections 32
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use platform::events::{self, Broker, QueueOptions};

#[derive(Parser)]
struct Args {
    /// The webhook URL.
    #[arg(long)]
    url: String,
    /// The endpoint secret the service is configured with.
    #[arg(long)]
    secret: String,
    /// RabbitMQ, to count what was published.
    #[arg(long)]
    amqp_url: String,
    /// The exchange the service publishes to.
    #[arg(long)]
    exchange: String,
    /// How long to fire.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections (one request in flight on each).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Hard cap on requests, so the loop is bounded in count as well as time.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: usize,
    /// How long to wait for the relay to publish everything after the load stops.
    #[arg(long, default_value_t = 120)]
    drain_seconds: u64,
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    elapsed: Duration,
    latencies_us: Vec<u32>,
    accepted: Vec<String>,
    failed: usize,
}

fn event(id: &str, n: usize) -> Vec<u8> {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": now, "livemode": false,
        "type": "payment_intent.succeeded",
        "data": {"object": {
            "id": format!("pi_bench_{n}"), "object": "payment_intent", "amount": 2999, "amount_received": 2999,
            "currency": "usd", "status": "succeeded", "metadata": {"order_id": (n + 1).to_string()}
        }}
    })
    .to_string()
    .into_bytes()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run_id = uuid::Uuid::new_v4().simple().to_string();

    // The counting queue exists before the first event, so nothing published is unroutable.
    let broker = Broker::new(&args.amqp_url, &args.exchange).with_connection_name("webhook-bench");
    let queue = format!("bench.webhook.{run_id}");
    let channel = broker.channel().await?;
    events::declare_exchange(&channel, &broker).await?;
    let q = QueueOptions { expires: Some(Duration::from_secs(600)) };
    events::declare_consumer_queue(&channel, broker.exchange(), &queue, &["payment.#"], &q).await?;

    let counted = async {
        let all = fire(&args, &run_id).await?;
        report(&args, &all);
        let counts = count(&channel, &queue, &all.accepted, args.drain_seconds).await?;
        anyhow::Ok((all.accepted.len(), counts))
    }
    .await;
    // Delete the counting queue (and the retry and dead-letter queues declared with it) now, not
    // when it expires: while it exists it is bound to the exchange, so every later run would write
    // each event into it too, and RabbitMQ's share of the machine would grow with every run.
    for name in [queue.clone(), format!("{queue}.retry"), format!("{queue}.dlq")] {
        let _ = channel.queue_delete(name.as_str().into(), QueueDeleteOptions::default()).await;
    }
    let (accepted, (published, duplicates, foreign, drain)) = counted?;
    let lost = accepted - published;
    println!(
        "published {published} of {accepted} accepted (all published {drain:.1} s after the load stopped): {lost} lost, {duplicates} duplicated, {foreign} unexpected"
    );
    let _ = channel.close(200, "bench done".into()).await;
    broker.close().await;
    if lost > 0 || duplicates > 0 || foreign > 0 || accepted == 0 {
        anyhow::bail!("count check failed");
    }
    println!("count check: ok (accepted = published, no duplicates)");
    Ok(())
}

/// Fires events on `args.connections` connections until the time or the request budget is spent.
async fn fire(args: &Args, run_id: &str) -> anyhow::Result<Tally> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let secret: Arc<str> = args.secret.clone().into();
    let url: Arc<str> = args.url.clone().into();
    let budget = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for conn in 0..args.connections {
        let (client, secret, url, budget, run_id) =
            (client.clone(), secret.clone(), url.clone(), budget.clone(), run_id.to_owned());
        let max = args.max_requests;
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut i = 0usize;
            while Instant::now() < deadline && budget.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < max
            {
                let id = format!("evt_{run_id}_{conn}_{i}");
                let body = event(&id, i);
                let signature =
                    domain::stripe_signature::header_value(&secret, chrono::Utc::now().timestamp(), &body);
                let sent = Instant::now();
                let res = client
                    .post(&*url)
                    .header("content-type", "application/json")
                    .header("stripe-signature", signature)
                    .body(body)
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                tally.latencies_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                if ok {
                    tally.accepted.push(id);
                } else {
                    tally.failed += 1;
                }
                i += 1;
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        let t = t.await?;
        all.latencies_us.extend(t.latencies_us);
        all.accepted.extend(t.accepted);
        all.failed += t.failed;
    }
    all.elapsed = started.elapsed();
    Ok(all)
}

/// Prints the rate and latency percentiles.
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn report(args: &Args, all: &Tally) {
    let mut latencies = all.latencies_us.clone();
    latencies.sort_unstable();
    // Nearest-rank percentile, `permille` of 1000.
    let pct = |permille: usize| {
        let n = latencies.len();
        let rank = (n * permille).div_ceil(1000).clamp(1, n.max(1));
        latencies.get(rank - 1).map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    let elapsed = all.elapsed.as_secs_f64();
    let accepted = all.accepted.len();
    println!(
        "fired {} events in {elapsed:.1} s over {} connections: {accepted} accepted, {} failed",
        latencies.len(),
        args.connections,
        all.failed
    );
    println!(
        "accepted/s {:.0}   p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms",
        accepted as f64 / elapsed,
        pct(500),
        pct(990),
        pct(1000)
    );
}

/// Consumes the counting queue until every accepted id arrived (or the deadline), then a little
/// longer to catch duplicates. Returns (published, duplicates, unexpected, seconds taken).
async fn count(
    channel: &lapin::Channel,
    queue: &str,
    accepted: &[String],
    drain_seconds: u64,
) -> anyhow::Result<(usize, usize, usize, f64)> {
    let drain_start = Instant::now();
    // Manual acks with a bounded prefetch: RabbitMQ keeps feeding the consumer at its pace.
    channel.basic_qos(1000, BasicQosOptions::default()).await?;
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "webhook-bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let expected: HashSet<&str> = accepted.iter().map(String::as_str).collect();
    let mut seen = HashSet::with_capacity(accepted.len());
    let (mut duplicates, mut foreign) = (0usize, 0usize);
    let deadline = drain_start + Duration::from_secs(drain_seconds);
    let mut settle = false;
    loop {
        if !settle && (seen.len() >= accepted.len() || Instant::now() >= deadline) {
            settle = true;
        }
        // Once everything is in, anything arriving within 2 s more would be a duplicate.
        let wait = if settle { Duration::from_secs(2) } else { Duration::from_secs(5) };
        let delivery = match tokio::time::timeout(wait, consumer.next()).await {
            Ok(Some(d)) => d?,
            Ok(None) => break,
            Err(_) if settle => break,
            Err(_) => continue,
        };
        delivery.ack(BasicAckOptions::default()).await?;
        let envelope: serde_json::Value = serde_json::from_slice(&delivery.data)?;
        let id = envelope["data"]["stripe_event_id"].as_str().unwrap_or_default().to_owned();
        if !expected.contains(id.as_str()) {
            foreign += 1;
        } else if !seen.insert(id) {
            duplicates += 1;
        }
    }
    let took = drain_start.elapsed().as_secs_f64() - if seen.len() == accepted.len() { 2.0 } else { 0.0 };
    Ok((seen.len(), duplicates, foreign, took))
}
