//! The cache's Redis connection, with its I/O and its time-outs on a thread of their own.
//!
//! Under a burst the two worker loops run thousands of requests. Measured there, a command's
//! time-out also counts the time its answer waits for the loop: the task that reads the
//! socket is queued behind the requests, and a timer firing first turned a busy loop into
//! "Redis is down" (ADR 0011, amendment). So the connection lives on one dedicated thread
//! per process (`redis-io`, a current-thread runtime that does nothing else): it writes,
//! reads and times out every command there, and the answer waits in the task's result until
//! the caller is polled, however late. A time-out now means Redis (or the network to it) did
//! not answer, not that we were busy.
//!
//! A failure is [`Failure::Down`] (the connection failed or Redis answered with an error) or
//! [`Failure::Slow`] (no answer in time). A slow answer alone proves little, so the cache
//! asks [`RedisLink::probe`]: a `PING` on a fresh connection, also on the I/O thread.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, Value};
use tokio::runtime::Handle;

/// Why a command gave no usable answer.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The connection failed (refused, reset, closed) or Redis answered with an error.
    Down(String),
    /// No answer within the time-out, measured on the I/O thread.
    Slow(String),
}

impl Failure {
    /// The message, for logs.
    pub fn message(&self) -> &str {
        match self {
            Failure::Down(m) | Failure::Slow(m) => m,
        }
    }
}

/// The I/O thread's runtime, started on first use; `None` if no thread could be started
/// (then commands run on the caller's runtime, as before).
fn io_runtime() -> Option<Handle> {
    static IO: OnceLock<Option<Handle>> = OnceLock::new();
    IO.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("redis-io".to_owned())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .ok()?;
        Some(handle)
    })
    .clone()
}

type Probe = Shared<BoxFuture<'static, bool>>;

struct Inner {
    client: Client,
    timeout: Duration,
    /// One multiplexed connection, opened on the I/O thread (so its reader runs there).
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// The probe in flight, shared by every caller that asks meanwhile.
    probe: Mutex<Option<Probe>>,
}

/// Redis commands whose I/O and time-out run on the `redis-io` thread.
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

impl RedisLink {
    /// A link to `client`; every command (and the probe) gets `timeout`.
    pub fn new(client: Client, timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                timeout,
                conn: tokio::sync::Mutex::new(None),
                probe: Mutex::new(None),
            }),
        }
    }

    /// Runs `cmd` and converts its answer.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, Failure> {
        let (inner, cmd) = (Arc::clone(&self.inner), cmd.clone());
        let value = on_io_thread(self.inner.timeout, async move { inner.run(&cmd).await }).await??;
        redis::from_redis_value(value).map_err(|e| Failure::Down(format!("unexpected answer: {e}")))
    }

    /// Whether Redis answers a `PING` on a fresh connection within the time-out, measured on
    /// the I/O thread. Concurrent callers share one probe.
    pub async fn probe(&self) -> bool {
        let probe = {
            let mut slot = self.inner.probe.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(running) = slot.as_ref() {
                running.clone()
            } else {
                let inner = Arc::clone(&self.inner);
                let probe = async move {
                    let ping = Arc::clone(&inner);
                    let answered =
                        on_io_thread(inner.timeout, async move { Ok(ping.ping_fresh().await) }).await;
                    inner.probe.lock().unwrap_or_else(PoisonError::into_inner).take();
                    matches!(answered, Ok(Ok(true)))
                }
                .boxed()
                .shared();
                *slot = Some(probe.clone());
                probe
            }
        };
        probe.await
    }
}

/// Runs `job` on the I/O thread and waits for it. The job bounds itself with `timeout`; the
/// wait here is only a backstop (a caller polled late finds the result already there).
async fn on_io_thread<T: Send + 'static>(
    timeout: Duration,
    job: impl Future<Output = Result<T, Failure>> + Send + 'static,
) -> Result<Result<T, Failure>, Failure> {
    let Some(io) = io_runtime() else {
        return Ok(job.await);
    };
    match tokio::time::timeout(timeout.saturating_mul(4), io.spawn(job)).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(e)) => Err(Failure::Down(format!("redis I/O task failed: {e}"))),
        Err(_) => Err(Failure::Slow("the redis I/O thread did not answer".to_owned())),
    }
}

impl Inner {
    fn config(&self) -> AsyncConnectionConfig {
        // Our own deadline covers the answer; the connection's would only duplicate it.
        AsyncConnectionConfig::new().set_connection_timeout(Some(self.timeout)).set_response_timeout(None)
    }

    /// On the I/O thread: one command, within the time-out.
    async fn run(&self, cmd: &Cmd) -> Result<Value, Failure> {
        let attempt = async {
            let mut conn = self.connection().await?;
            match cmd.query_async::<Value>(&mut conn).await {
                Ok(value) => Ok(value),
                Err(e) => {
                    if e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() {
                        // The next command opens a new connection.
                        self.conn.lock().await.take();
                    }
                    Err(Failure::Down(e.to_string()))
                }
            }
        };
        tokio::time::timeout(self.timeout, attempt)
            .await
            .unwrap_or_else(|_| Err(Failure::Slow(format!("no answer within {:?}", self.timeout))))
    }

    /// The open connection, or a new one.
    async fn connection(&self) -> Result<MultiplexedConnection, Failure> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config())
            .await
            .map_err(|e| Failure::Down(e.to_string()))?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// On the I/O thread: `PING` on a connection of its own (the shared one may be queued
    /// behind the command that was slow).
    async fn ping_fresh(&self) -> bool {
        let answer = async {
            let mut conn =
                self.client.get_multiplexed_async_connection_with_config(&self.config()).await.ok()?;
            redis::cmd("PING").query_async::<String>(&mut conn).await.ok()
        };
        matches!(tokio::time::timeout(self.timeout, answer).await, Ok(Some(reply)) if reply == "PONG")
    }
}
