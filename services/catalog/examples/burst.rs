//! Burst load for `scripts/bench/catalog-burst.sh`: `--requests` clients that each open a new
//! connection and send one `GET` at the same moment (`testkit::burst`), against a running
//! catalog. Prints the tally and a `key=value` line for the script; exits 1 if any request
//! did not get a 2xx answer.
//!
//! ```sh
//! burst --addr 127.0.0.1:18181 --path /api/v1/products --requests 3000 [--connect-first]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use testkit::burst::Connect;

#[derive(Parser)]
struct Args {
    /// The catalog's address.
    #[arg(long)]
    addr: SocketAddr,
    /// The page every client asks for.
    #[arg(long, default_value = "/api/v1/products")]
    path: String,
    /// Simultaneous clients (one connection and one request each).
    #[arg(long, default_value_t = 3000)]
    requests: usize,
    /// Seconds each request may take, counted from the common start.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Open every connection before the burst; then only the requests start together.
    #[arg(long)]
    connect_first: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let connect = if args.connect_first { Connect::First } else { Connect::AtStart };
    let timeout = Duration::from_secs(args.timeout);
    let report = testkit::burst::burst_with(args.addr, &args.path, args.requests, timeout, connect).await;
    println!("{report}");
    println!(
        "burst: sent={} ok={} non2xx={} errors={} total_s={:.3} p50_ms={:.1} p99_ms={:.1} max_ms={:.1}",
        report.sent,
        report.ok,
        report.non_2xx.values().sum::<usize>(),
        report.errors.values().sum::<usize>(),
        report.elapsed.as_secs_f64(),
        report.quantile(0.5).as_secs_f64() * 1e3,
        report.quantile(0.99).as_secs_f64() * 1e3,
        report.quantile(1.0).as_secs_f64() * 1e3,
    );
    if report.failed() > 0 {
        std::process::exit(1);
    }
}
