//! A burst: many clients that each open their own connection and send one `GET` at the same
//! moment (tests and the catalog's `examples/burst.rs`, run by `scripts/bench/catalog-burst.sh`).
//!
//! Every client is a task that waits at one barrier; when the last one is ready they all
//! connect and send together, so the server sees `n` new connections and `n` requests at
//! once (not a fixed number of connections reused for a while, as wrk does). With
//! [`Connect::First`] the connections are opened before the barrier, and only the requests
//! start together: the server then meets all `n` requests at the same instant, with no help
//! from the kernel's listen queue spreading the connections out. Plain HTTP/1.1
//! over `tokio::net::TcpStream` with `Connection: close`: the status line is all that is read
//! into the tally, so the client costs little next to the server it measures.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Barrier;

/// What a burst got back.
#[derive(Debug, Default)]
pub struct BurstReport {
    /// Requests sent.
    pub sent: usize,
    /// Answers with a 2xx status.
    pub ok: usize,
    /// Other answers, by status.
    pub non_2xx: BTreeMap<u16, usize>,
    /// Requests without an answer (connect or read error, time-out), by kind.
    pub errors: BTreeMap<String, usize>,
    /// From the release of the barrier to the last answer.
    pub elapsed: Duration,
    /// Each answered request's time from the release to its last byte, sorted.
    pub latencies: Vec<Duration>,
}

impl BurstReport {
    /// Requests that did not end in a 2xx answer.
    pub fn failed(&self) -> usize {
        self.sent - self.ok
    }

    /// The `q`-quantile (0.0..=1.0) of answered requests' latencies.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = ((self.latencies.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        self.latencies[i]
    }
}

impl std::fmt::Display for BurstReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests: {} 2xx, {} non-2xx {:?}, {} without answer {:?}; total {:.3} s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.sent,
            self.ok,
            self.non_2xx.values().sum::<usize>(),
            self.non_2xx,
            self.errors.values().sum::<usize>(),
            self.errors,
            self.elapsed.as_secs_f64(),
            self.quantile(0.5).as_secs_f64() * 1e3,
            self.quantile(0.99).as_secs_f64() * 1e3,
            self.quantile(1.0).as_secs_f64() * 1e3,
        )
    }
}

/// When the clients connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connect {
    /// Each client connects when the burst starts, then sends at once.
    AtStart,
    /// Each client connects before the burst; at the start they only send.
    First,
}

/// How one request ended.
enum Outcome {
    Status(u16, Duration),
    Error(String),
}

/// Sends `n` simultaneous `GET path` requests to `addr`, each on its own new connection,
/// each allowed `timeout` from the common start to its last byte.
pub async fn burst(addr: SocketAddr, path: &str, n: usize, timeout: Duration) -> BurstReport {
    burst_with(addr, path, n, timeout, Connect::AtStart).await
}

/// [`burst`], with the connections opened as `connect` says.
pub async fn burst_with(
    addr: SocketAddr,
    path: &str,
    n: usize,
    timeout: Duration,
    connect: Connect,
) -> BurstReport {
    let request = Arc::new(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"));
    // Everyone waits here, then the start time is taken once they are all released.
    let barrier = Arc::new(Barrier::new(n + 1));
    let clients: Vec<_> = (0..n)
        .map(|_| {
            let (request, barrier) = (request.clone(), barrier.clone());
            tokio::spawn(async move {
                let early = match connect {
                    Connect::First => Some(open(addr).await),
                    Connect::AtStart => None,
                };
                barrier.wait().await;
                let start = Instant::now();
                let exchange = async {
                    let stream = match early {
                        Some(stream) => stream?,
                        None => open(addr).await?,
                    };
                    one(stream, &request).await
                };
                match tokio::time::timeout(timeout, exchange).await {
                    Ok(Ok(status)) => Outcome::Status(status, start.elapsed()),
                    Ok(Err(e)) => Outcome::Error(e),
                    Err(_) => Outcome::Error(format!("no answer within {timeout:?}")),
                }
            })
        })
        .collect();
    barrier.wait().await;
    let start = Instant::now();
    let mut report = BurstReport { sent: n, ..BurstReport::default() };
    for client in clients {
        match client.await {
            Ok(Outcome::Status(status, took)) => {
                report.latencies.push(took);
                if (200..300).contains(&status) {
                    report.ok += 1;
                } else {
                    *report.non_2xx.entry(status).or_default() += 1;
                }
            }
            Ok(Outcome::Error(e)) => *report.errors.entry(e).or_default() += 1,
            Err(e) => *report.errors.entry(format!("client task: {e}")).or_default() += 1,
        }
    }
    report.elapsed = start.elapsed();
    report.latencies.sort_unstable();
    report
}

async fn open(addr: SocketAddr) -> Result<TcpStream, String> {
    TcpStream::connect(addr).await.map_err(|e| format!("connect: {}", e.kind()))
}

/// One request on `stream`; the answer's status once the server has closed.
async fn one(mut stream: TcpStream, request: &str) -> Result<u16, String> {
    stream.write_all(request.as_bytes()).await.map_err(|e| format!("write: {}", e.kind()))?;
    let mut answer = Vec::with_capacity(16 * 1024);
    stream.read_to_end(&mut answer).await.map_err(|e| format!("read: {}", e.kind()))?;
    status_of(&answer).ok_or_else(|| {
        if answer.is_empty() { "closed without an answer".to_owned() } else { "malformed answer".to_owned() }
    })
}

/// The status code of an HTTP/1.x answer.
fn status_of(answer: &[u8]) -> Option<u16> {
    let rest = answer.strip_prefix(b"HTTP/1.1 ").or_else(|| answer.strip_prefix(b"HTTP/1.0 "))?;
    std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(status_of(b"HTTP/1.1 200 OK\r\n\r\n{}"), Some(200));
        assert_eq!(status_of(b"HTTP/1.0 503 Service Unavailable\r\n"), Some(503));
        assert_eq!(status_of(b""), None);
        assert_eq!(status_of(b"garbage"), None);
    }
}
