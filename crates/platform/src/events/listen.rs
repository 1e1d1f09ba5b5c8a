//! A `LISTEN` connection that turns PostgreSQL notifications (sent at commit) into in-process
//! wake-ups: the outbox relay and any other task woken by a write in another process.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use tokio::sync::Notify;

use super::EventsError;
use super::backoff::Backoff;
use crate::db;
use crate::shutdown::Shutdown;

/// Keeps a `LISTEN channel` connection open and wakes `wake` on every notification; reconnects
/// with back-off if it drops, and wakes once after each (re)connect, since a notification sent
/// while nobody listened is lost and the waker's own poll must catch up.
pub async fn listen(url: String, schema: String, channel: String, wake: Arc<Notify>, mut shutdown: Shutdown) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
    while !shutdown.is_triggered() {
        match listen_once(&url, &schema, &channel, &wake).await {
            Ok(()) => backoff.reset(),
            Err(e) => tracing::warn!(error = %e, channel = %channel, "LISTEN connection lost; reconnecting"),
        }
        wake.notify_one();
        tokio::select! {
            () = shutdown.wait() => {}
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

async fn listen_once(url: &str, schema: &str, channel: &str, wake: &Notify) -> Result<(), EventsError> {
    let mut conn = db::connect(url, schema).await?;
    // sql_query: LISTEN is a utility statement naming its channel (no binds, nothing to prepare).
    diesel::sql_query(format!("LISTEN {channel}")).execute(&mut conn).await?;
    wake.notify_one();
    loop {
        let next = {
            let mut stream = std::pin::pin!(conn.notifications_stream());
            tokio::time::timeout(Duration::from_secs(30), stream.next()).await
        };
        match next {
            Ok(Some(Ok(_))) => wake.notify_one(),
            Ok(Some(Err(e))) => return Err(e.into()),
            Ok(None) => {
                return Err(EventsError::DatabaseUnavailable("LISTEN connection closed".into()));
            }
            // Quiet for a while: make sure the connection is still there.
            Err(_) => {
                crate::sql::ping(&mut conn).await?;
            }
        }
    }
}
