//! The broker connection: connected lazily, shared by the relay and the consumers of a
//! process, and re-established (with capped exponential back-off) after the broker drops it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lapin::uri::AMQPUri;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::time::Instant;

use super::EventsError;
use super::backoff::Backoff;
use crate::config::redact_url;

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One AMQP connection (re-made when lost) and the name of the events exchange.
pub struct Broker {
    url: String,
    exchange: String,
    connection_name: String,
    temporary_exchange: bool,
    current: Mutex<Option<Arc<Connection>>>,
    reconnect: tokio::sync::Mutex<Reconnect>,
}

/// When the next connection attempt may start.
struct Reconnect {
    backoff: Backoff,
    not_before: Option<Instant>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("url", &redact_url(&self.url))
            .field("exchange", &self.exchange)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// A broker handle for `url` publishing to `exchange`; nothing connects until first use.
    pub fn new(url: impl Into<String>, exchange: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            exchange: exchange.into(),
            connection_name: "commerce".to_owned(),
            temporary_exchange: false,
            current: Mutex::new(None),
            reconnect: tokio::sync::Mutex::new(Reconnect {
                backoff: Backoff::new(Duration::from_millis(200), Duration::from_secs(15)),
                not_before: None,
            }),
        }
    }

    /// Sets the connection name shown in the management UI (use the service name).
    #[must_use]
    pub fn with_connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    /// Declares the exchange auto-deleting (gone once its last queue is), for tests.
    #[must_use]
    pub fn with_temporary_exchange(mut self) -> Self {
        self.temporary_exchange = true;
        self
    }

    /// The events exchange.
    pub fn exchange(&self) -> &str {
        &self.exchange
    }

    /// Whether the exchange is declared auto-deleting (see [`Broker::with_temporary_exchange`]).
    pub fn exchange_is_temporary(&self) -> bool {
        self.temporary_exchange
    }

    /// True while a connection is open.
    pub fn is_connected(&self) -> bool {
        self.live().is_some()
    }

    /// A new channel on a live connection, connecting (or reconnecting) first if needed.
    pub async fn channel(&self) -> Result<Channel, EventsError> {
        let conn = self.connection().await?;
        match conn.create_channel().await {
            Ok(channel) => Ok(channel),
            Err(first) => {
                // The connection looked alive but is not: forget it and try once on a fresh one.
                tracing::debug!(error = %first, "cannot open a channel; reconnecting");
                self.forget(&conn);
                let conn = self.connection().await?;
                conn.create_channel().await.map_err(|e| {
                    self.forget(&conn);
                    e.into()
                })
            }
        }
    }

    /// Checks the broker answers within `timeout` (opens and closes a channel), for `/ready`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), EventsError> {
        let check = async {
            let channel = self.channel().await?;
            channel.close(200, "ping".into()).await?;
            Ok(())
        };
        tokio::time::timeout(timeout, check).await.unwrap_or(Err(EventsError::Timeout("broker ping")))
    }

    /// Closes the connection (if any) cleanly; a later [`Broker::channel`] reconnects.
    pub async fn close(&self) {
        let conn = self.current.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(conn) = conn
            && conn.status().connected()
        {
            let _ = conn.close(200, "bye".into()).await;
        }
    }

    fn live(&self) -> Option<Arc<Connection>> {
        let guard = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().filter(|c| c.status().connected()).cloned()
    }

    fn forget(&self, conn: &Arc<Connection>) {
        let mut guard = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *guard = None;
        }
    }

    async fn connection(&self) -> Result<Arc<Connection>, EventsError> {
        if let Some(conn) = self.live() {
            return Ok(conn);
        }
        // One connection attempt at a time; the others wait for its result.
        let mut reconnect = self.reconnect.lock().await;
        if let Some(conn) = self.live() {
            return Ok(conn);
        }
        if let Some(at) = reconnect.not_before {
            tokio::time::sleep_until(at).await;
        }
        match self.connect().await {
            Ok(conn) => {
                reconnect.backoff.reset();
                reconnect.not_before = None;
                let conn = Arc::new(conn);
                *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&conn));
                tracing::info!(broker = %redact_url(&self.url), "connected to the broker");
                Ok(conn)
            }
            Err(e) => {
                let delay = reconnect.backoff.next_delay();
                reconnect.not_before = Some(Instant::now() + delay);
                tracing::warn!(broker = %redact_url(&self.url), error = %e, retry_in = ?delay, "cannot connect to the broker");
                Err(e)
            }
        }
    }

    async fn connect(&self) -> Result<Connection, EventsError> {
        let uri: AMQPUri = self
            .url
            .parse()
            .map_err(|e: String| EventsError::InvalidUrl(format!("{}: {e}", redact_url(&self.url))))?;
        let props = ConnectionProperties::default().with_connection_name(self.connection_name.clone().into());
        tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect_uri(uri, props))
            .await
            .map_err(|_| EventsError::Timeout("broker connect"))?
            .map_err(EventsError::from)
    }
}
