//! Load generator for `scripts/bench/checkout.sh`: virtual buyers against running cart, order
//! and stripe-emulator services. Each buyer, in a loop: creates a guest cart, adds 2 lines,
//! checks out (with an `Idempotency-Key`), and confirms the PaymentIntent at the emulator with
//! `pm_card_visa`; the emulator then fires the webhook that makes the order paid. Like the
//! storefront's confirmation page, the buyer then reads the order every `--poll-ms` (500) until
//! it is paid (or 120 s pass) before buying again; `--poll-ms 0` starts the next purchase at
//! once, so confirms can outrun payments and confirm-to-paid measures the queue.
//!
//! It prints the step timings it measured itself and writes one line per confirmed order
//! (`order_number,confirmed_at_epoch_us`) to `--confirmed-csv`, so the script can measure
//! confirm-to-paid from `orders.paid_at` without polling the service.
//!
//! ```sh
//! checkout_load --cart-url http://127.0.0.1:18202 --order-url http://127.0.0.1:18203 \
//!     --stripe-url http://127.0.0.1:18205 --products 200 --seconds 15 --buyers 32
//! ```
// Timings are small counts and microseconds: the float casts cannot lose anything that matters.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::many_single_char_names,
    missing_docs
)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    /// The cart service.
    #[arg(long)]
    cart_url: String,
    /// The order service.
    #[arg(long)]
    order_url: String,
    /// The stripe-emulator.
    #[arg(long)]
    stripe_url: String,
    /// The secret key the emulator accepts (any `sk_test_`).
    #[arg(long, default_value = "sk_test_bench")]
    stripe_key: String,
    /// Product ids 1..=N are bought.
    #[arg(long, default_value_t = 100)]
    products: u64,
    /// How long to buy.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Concurrent virtual buyers (one request in flight each).
    #[arg(long, default_value_t = 32)]
    buyers: usize,
    /// Hard cap on checkouts, so the run is bounded in count as well as time.
    #[arg(long, default_value_t = 1_000_000)]
    max_orders: usize,
    /// Where to write `order_number,confirmed_at_epoch_us` per confirmed order.
    #[arg(long)]
    confirmed_csv: Option<std::path::PathBuf>,
    /// Read the order this often after confirming until it is paid, as the storefront does;
    /// 0: do not wait.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
}

/// How long a buyer waits for the payment before giving up on it (the storefront's limit).
const GIVE_UP: Duration = Duration::from_secs(120);

/// The steps one buyer times.
/// The last is each add on its own (the issue's "add line p99"); the second is both adds together.
const STEPS: [&str; 5] = ["cart create", "add line (x2)", "checkout", "confirm", "add line (each)"];

/// What one buyer saw.
#[derive(Default)]
struct Tally {
    /// Microseconds per step (index into `STEPS`).
    steps: [Vec<u32>; 5],
    checkouts_ok: usize,
    checkout_errors: usize,
    other_errors: usize,
    confirmed: Vec<(String, u128)>,
    first_error: Option<String>,
    /// Orders the buyer gave up waiting for.
    unpaid: usize,
}

fn us(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// A tiny xorshift, so each buyer picks its own products without a dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

async fn ok_json(
    res: reqwest::Result<reqwest::Response>,
    what: &str,
) -> Result<(Value, Option<String>), String> {
    let res = res.map_err(|e| format!("{what}: {e}"))?;
    let status = res.status();
    let token = res.headers().get("x-cart-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = res.bytes().await.map_err(|e| format!("{what}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{what}: {status} {}", String::from_utf8_lossy(&body)));
    }
    let v = serde_json::from_slice(&body).map_err(|e| format!("{what}: {e}"))?;
    Ok((v, token))
}

struct Ctx {
    client: reqwest::Client,
    args: Args,
    run_id: String,
}

/// One buyer's loop.
async fn buyer(ctx: Arc<Ctx>, n: usize, budget: Arc<AtomicUsize>, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (n as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let a = &ctx.args;
    let mut i = 0usize;
    while Instant::now() < deadline && budget.fetch_add(1, Ordering::Relaxed) < a.max_orders {
        i += 1;
        if let Err(e) = one(&ctx, &mut tally, &mut rng, n, i).await {
            tally.first_error.get_or_insert(e);
        }
    }
    tally
}

async fn one(ctx: &Ctx, t: &mut Tally, rng: &mut u64, n: usize, i: usize) -> Result<(), String> {
    let a = &ctx.args;
    let c = &ctx.client;
    // 1. A guest cart.
    let started = Instant::now();
    let created = ok_json(c.post(format!("{}/api/v1/carts", a.cart_url)).send().await, "cart create").await;
    let (cart, token) = created.inspect_err(|_| t.other_errors += 1)?;
    t.steps[0].push(us(started));
    let cart_id = cart["id"].as_str().unwrap_or_default().to_owned();
    let token = token.or_else(|| cart["token"].as_str().map(str::to_owned)).unwrap_or_default();
    // 2. Two different products.
    let first = next(rng) % a.products + 1;
    let second = (first + next(rng) % (a.products - 1).max(1)) % a.products + 1;
    let started = Instant::now();
    for product in [first, second] {
        let one = Instant::now();
        let res = c
            .post(format!("{}/api/v1/carts/{cart_id}/items", a.cart_url))
            .header("x-cart-token", &token)
            .json(&json!({"product_id": product, "quantity": 1}))
            .send()
            .await;
        ok_json(res, "add line").await.inspect_err(|_| t.other_errors += 1)?;
        t.steps[4].push(us(one));
    }
    t.steps[1].push(us(started));
    // 3. Checkout.
    let address =
        json!({"line1": "1 Bench Street", "city": "Loopback", "postal_code": "12345", "country": "US"});
    let started = Instant::now();
    let res = c
        .post(format!("{}/api/v1/checkout", a.order_url))
        .header("idempotency-key", format!("bench-{}-{n}-{i}", ctx.run_id))
        .header("x-cart-token", &token)
        .json(&json!({
            "cart_id": cart_id, "customer_email": format!("buyer{n}@bench.example"),
            "customer_name": "Bench Buyer", "shipping_address": address, "billing_address": address,
        }))
        .send()
        .await;
    let (order, _) = ok_json(res, "checkout").await.inspect_err(|_| t.checkout_errors += 1)?;
    t.steps[2].push(us(started));
    t.checkouts_ok += 1;
    let number = order["order_number"].as_str().unwrap_or_default().to_owned();
    let access = order["access_token"].as_str().unwrap_or_default().to_owned();
    let intent = order["payment"]["payment_intent_id"].as_str().unwrap_or_default().to_owned();
    // 4. The buyer's card, at the emulator: confirming fires the webhook.
    let started = Instant::now();
    let res = c
        .post(format!("{}/v1/payment_intents/{intent}/confirm", a.stripe_url))
        .bearer_auth(&a.stripe_key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("payment_method=pm_card_visa")
        .send()
        .await;
    ok_json(res, "confirm").await.inspect_err(|_| t.other_errors += 1)?;
    t.steps[3].push(us(started));
    let at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
    t.confirmed.push((number.clone(), at));
    if a.poll_ms > 0 {
        wait_paid(ctx, t, &number, &access).await?;
    }
    Ok(())
}

/// The storefront's confirmation page: the order, every `poll_ms`, until it is no longer
/// pending payment.
async fn wait_paid(ctx: &Ctx, t: &mut Tally, number: &str, access: &str) -> Result<(), String> {
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(ctx.args.poll_ms)).await;
        let res = ctx
            .client
            .get(format!("{}/api/v1/orders/{number}", ctx.args.order_url))
            .header("x-order-token", access)
            .send()
            .await;
        let (o, _) = ok_json(res, "order read").await.inspect_err(|_| t.other_errors += 1)?;
        if o["status"] != "pending_payment" {
            return Ok(());
        }
        if started.elapsed() > GIVE_UP {
            t.unpaid += 1;
            return Err(format!("order {number} still pending after {GIVE_UP:?}"));
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx.min(sorted.len() - 1)]) / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.buyers)
        .timeout(Duration::from_secs(30))
        .build()?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let ctx = Arc::new(Ctx { client, args, run_id });
    let budget = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(ctx.args.seconds);
    let tasks: Vec<_> =
        (0..ctx.args.buyers).map(|n| tokio::spawn(buyer(ctx.clone(), n, budget.clone(), deadline))).collect();
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await?;
        for (s, v) in all.steps.iter_mut().zip(t.steps) {
            s.extend(v);
        }
        all.checkouts_ok += t.checkouts_ok;
        all.checkout_errors += t.checkout_errors;
        all.other_errors += t.other_errors;
        all.unpaid += t.unpaid;
        all.confirmed.extend(t.confirmed);
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();

    println!("buyers {}, {elapsed:.1} s of load", ctx.args.buyers);
    println!("{:<16} {:>8} {:>9} {:>9} {:>9}", "step", "count", "mean ms", "p50 ms", "p99 ms");
    for (name, v) in STEPS.iter().zip(all.steps.iter_mut()) {
        v.sort_unstable();
        let mean = if v.is_empty() {
            0.0
        } else {
            v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64 / 1000.0
        };
        println!(
            "{name:<16} {:>8} {mean:>9.2} {:>9.2} {:>9.2}",
            v.len(),
            percentile(v, 0.5),
            percentile(v, 0.99)
        );
    }
    let co = &all.steps[2];
    println!(
        "checkout: {} ok, {} errors, {:.1}/s; p50 {:.2} ms, p99 {:.2} ms",
        all.checkouts_ok,
        all.checkout_errors,
        all.checkouts_ok as f64 / elapsed,
        percentile(co, 0.5),
        percentile(co, 0.99)
    );
    println!(
        "confirmed {}, other errors {}, given up waiting for payment {}",
        all.confirmed.len(),
        all.other_errors,
        all.unpaid
    );
    if let Some(e) = &all.first_error {
        println!("first error: {}", e.chars().take(300).collect::<String>());
    }
    if let Some(path) = &ctx.args.confirmed_csv {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        for (number, at) in &all.confirmed {
            writeln!(f, "{number},{at}")?;
        }
        f.flush()?;
    }
    Ok(())
}
