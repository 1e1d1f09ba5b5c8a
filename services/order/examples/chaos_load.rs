//! The chaos suite's client side (`scripts/chaos/run.sh`), two modes:
//!
//! - `chaos_load buy`: virtual buyers that behave like a careful front end while servers and
//!   services are killed under them: guest cart, one or two lines, checkout with an
//!   `Idempotency-Key`, card confirmed at the emulator. A 503, a 409 "in progress" or a dropped
//!   connection is retried (the checkout with the same key) for up to `--retry-seconds`; a
//!   409 "Insufficient stock" or another 4xx ends that purchase. It stops when `--stop-file`
//!   exists, counts every answer by status, writes one CSV line per checkout key
//!   (`key,order_number,payment_intent,confirmed`) and prints `name value` lines for the script.
//! - `chaos_load smtp`: an SMTP sink that accepts every message and appends
//!   `message_id,subject` to `--out`, so the script can count confirmations per order.
// Counts and small durations: the casts cannot lose anything that matters.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::many_single_char_names,
    missing_docs
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Buy until the stop file appears.
    Buy(BuyArgs),
    /// Run the SMTP sink until killed.
    Smtp {
        /// Where to listen.
        #[arg(long)]
        listen: String,
        /// The CSV to append to.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Parser, Clone)]
struct BuyArgs {
    #[arg(long)]
    cart_url: String,
    #[arg(long)]
    order_url: String,
    #[arg(long)]
    stripe_url: String,
    #[arg(long, default_value = "sk_test_chaos")]
    stripe_key: String,
    /// Product ids 1..=N are bought.
    #[arg(long)]
    products: u64,
    #[arg(long, default_value_t = 8)]
    buyers: usize,
    /// Buying stops when this file exists.
    #[arg(long)]
    stop_file: PathBuf,
    /// How long one step keeps retrying through a fault.
    #[arg(long, default_value_t = 60)]
    retry_seconds: u64,
    /// Per checkout key: `key,order_number,payment_intent,confirmed`.
    #[arg(long)]
    keys_csv: PathBuf,
    /// A prefix for this run's keys.
    #[arg(long)]
    run: String,
}

/// Every answer seen, by route and status (`conn` for no answer).
type Counts = BTreeMap<(String, String), usize>;

#[derive(Default)]
struct Tally {
    counts: Counts,
    purchases: usize,
    checkouts: usize,
    confirmed: usize,
    gave_up: usize,
    /// A key answered with two different order numbers (must stay 0).
    key_conflicts: usize,
    keys: Vec<(String, String, String, bool)>,
}

/// One HTTP call: the status (None: no answer) and the body.
async fn call(t: &mut Tally, route: &str, req: reqwest::RequestBuilder) -> (Option<u16>, Value) {
    let Ok(res) = req.send().await else {
        *t.counts.entry((route.to_owned(), "conn".to_owned())).or_default() += 1;
        return (None, Value::Null);
    };
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    *t.counts.entry((route.to_owned(), status.to_string())).or_default() += 1;
    (Some(status), body)
}

/// Whether a careful client retries this answer.
fn retryable(status: Option<u16>, body: &Value) -> bool {
    match status {
        None | Some(502..=504) => true,
        Some(409) => body["error"] != "Insufficient stock",
        _ => false,
    }
}

/// Calls `make()` until the answer is final or the retry budget is spent.
async fn with_retries<F>(t: &mut Tally, route: &str, budget: Duration, make: F) -> (Option<u16>, Value)
where
    F: Fn() -> reqwest::RequestBuilder,
{
    let until = Instant::now() + budget;
    let mut pause = Duration::from_millis(100);
    loop {
        let (status, body) = call(t, route, make()).await;
        if !retryable(status, &body) || Instant::now() >= until {
            return (status, body);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

async fn purchase(a: &BuyArgs, c: &reqwest::Client, t: &mut Tally, rng: &mut u64, key: String) {
    let budget = Duration::from_secs(a.retry_seconds);
    t.purchases += 1;
    let (status, cart) =
        with_retries(t, "cart create", budget, || c.post(format!("{}/api/v1/carts", a.cart_url))).await;
    if status != Some(201) {
        t.gave_up += 1;
        return;
    }
    let id = cart["id"].as_str().unwrap_or_default().to_owned();
    let token = cart["token"].as_str().unwrap_or_default().to_owned();
    let lines = 1 + next(rng) % 2;
    for _ in 0..lines {
        let product = next(rng) % a.products + 1;
        let quantity = 1 + next(rng) % 2;
        let (status, _) = with_retries(t, "add line", budget, || {
            c.post(format!("{}/api/v1/carts/{id}/items", a.cart_url))
                .header("x-cart-token", &token)
                .json(&json!({"product_id": product, "quantity": quantity}))
        })
        .await;
        if status != Some(201) {
            // Sold out, or the cart vanished with a Redis restart: this buyer starts again.
            t.gave_up += 1;
            return;
        }
    }
    let address =
        json!({"line1": "1 Chaos Lane", "city": "Loopback", "postal_code": "12345", "country": "US"});
    let body = json!({
        "cart_id": id, "customer_email": "buyer@chaos.example", "customer_name": "Chaos Buyer",
        "shipping_address": address, "billing_address": address,
    });
    let mut numbers: Vec<String> = Vec::new();
    let until = Instant::now() + budget;
    let mut order = Value::Null;
    while Instant::now() < until {
        let (status, answer) = call(
            t,
            "checkout",
            c.post(format!("{}/api/v1/checkout", a.order_url))
                .header("idempotency-key", &key)
                .header("x-cart-token", &token)
                .json(&body),
        )
        .await;
        if let Some(n) = answer["order_number"].as_str()
            && !numbers.iter().any(|x| x == n)
        {
            numbers.push(n.to_owned());
        }
        if status == Some(201) {
            order = answer;
            break;
        }
        if !retryable(status, &answer) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if numbers.len() > 1 {
        t.key_conflicts += 1;
    }
    let number = order["order_number"].as_str().unwrap_or_default().to_owned();
    let intent = order["payment"]["payment_intent_id"].as_str().unwrap_or_default().to_owned();
    if intent.is_empty() {
        t.gave_up += 1;
        t.keys.push((key, numbers.first().cloned().unwrap_or_default(), String::new(), false));
        return;
    }
    t.checkouts += 1;
    let (status, _) = with_retries(t, "confirm", budget, || {
        c.post(format!("{}/v1/payment_intents/{intent}/confirm", a.stripe_url))
            .bearer_auth(&a.stripe_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("payment_method=pm_card_visa")
    })
    .await;
    let confirmed = status == Some(200);
    t.confirmed += usize::from(confirmed);
    t.keys.push((key, number, intent, confirmed));
}

async fn buyer(a: Arc<BuyArgs>, c: reqwest::Client, n: usize) -> Tally {
    let mut t = Tally::default();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (n as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut i = 0;
    while !a.stop_file.exists() {
        i += 1;
        purchase(&a, &c, &mut t, &mut rng, format!("{}-{n}-{i}", a.run)).await;
    }
    t
}

async fn buy(a: BuyArgs) -> anyhow::Result<()> {
    let a = Arc::new(a);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(2))
        .build()?;
    let tasks: Vec<_> = (0..a.buyers).map(|n| tokio::spawn(buyer(a.clone(), client.clone(), n))).collect();
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await?;
        for (k, v) in t.counts {
            *all.counts.entry(k).or_default() += v;
        }
        all.purchases += t.purchases;
        all.checkouts += t.checkouts;
        all.confirmed += t.confirmed;
        all.gave_up += t.gave_up;
        all.key_conflicts += t.key_conflicts;
        all.keys.extend(t.keys);
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&a.keys_csv)?);
    for (key, number, intent, confirmed) in &all.keys {
        writeln!(f, "{key},{number},{intent},{confirmed}")?;
    }
    f.flush()?;
    let total = |pred: &dyn Fn(&str) -> bool| {
        all.counts.iter().filter(|((_, s), _)| pred(s)).map(|(_, n)| n).sum::<usize>()
    };
    println!("purchases {}", all.purchases);
    println!("checkouts {}", all.checkouts);
    println!("confirmed {}", all.confirmed);
    println!("gave_up {}", all.gave_up);
    println!("key_conflicts {}", all.key_conflicts);
    println!("requests {}", total(&|_| true));
    println!("status_500 {}", total(&|s| s == "500"));
    println!("status_503 {}", total(&|s| s == "503"));
    println!("status_5xx_other {}", total(&|s| s.starts_with('5') && s != "500" && s != "503"));
    println!("no_answer {}", total(&|s| s == "conn"));
    for ((route, status), n) in &all.counts {
        eprintln!("  {route:<12} {status:>5} {n}");
    }
    Ok(())
}

/// One SMTP session: every message's `Message-ID` and `Subject` appended to the CSV.
async fn session(stream: tokio::net::TcpStream, out: Arc<Mutex<std::fs::File>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if write.write_all(b"220 chaos ESMTP\r\n").await.is_err() {
        return;
    }
    let mut in_data = false;
    let (mut id, mut subject) = (String::new(), String::new());
    while let Ok(Some(line)) = lines.next_line().await {
        if in_data {
            if line == "." {
                in_data = false;
                if let Ok(mut f) = out.lock() {
                    let _ = writeln!(f, "{},{}", id.replace(',', " "), subject.replace(',', " "));
                }
                if write.write_all(b"250 OK queued\r\n").await.is_err() {
                    return;
                }
            } else if let Some(v) =
                line.strip_prefix("Message-ID:").or_else(|| line.strip_prefix("Message-Id:"))
            {
                v.trim().clone_into(&mut id);
            } else if let Some(v) = line.strip_prefix("Subject:") {
                v.trim().clone_into(&mut subject);
            }
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-chaos\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("DATA") {
            in_data = true;
            id.clear();
            subject.clear();
            b"354 go ahead\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

async fn smtp(listen: &str, out: PathBuf) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(out)?;
    let out = Arc::new(Mutex::new(file));
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(session(stream, out.clone()));
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().mode {
        Mode::Buy(a) => buy(a).await,
        Mode::Smtp { listen, out } => smtp(&listen, out).await,
    }
}
