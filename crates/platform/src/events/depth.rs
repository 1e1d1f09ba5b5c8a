//! Queue depths in `/metrics`: the messages ready in each of a service's consumer queues (its
//! consumer lag) and in their dead-letter queues, read with a passive declare every few
//! seconds (`events_queue_messages{queue, kind="ready"|"dead"}`).

use std::sync::Arc;
use std::time::Duration;

use prometheus::{IntGaugeVec, Opts, Registry};

use super::Broker;
use super::dlq::{dlq_depth, queue_depth};
use crate::shutdown::Shutdown;

/// How often the depths are read.
const INTERVAL: Duration = Duration::from_secs(10);

/// Registers `events_queue_messages` and refreshes it for `queues` (full names) until `shutdown`.
pub fn spawn_queue_gauges(
    registry: &Registry,
    broker: Arc<Broker>,
    queues: Vec<String>,
    mut shutdown: Shutdown,
) -> prometheus::Result<()> {
    if queues.is_empty() {
        return Ok(());
    }
    let depth = IntGaugeVec::new(
        Opts::new(
            "events_queue_messages",
            "Messages waiting in a consumer queue (kind=ready: the consumer's lag) and in its dead-letter queue (kind=dead)",
        ),
        &["queue", "kind"],
    )?;
    registry.register(Box::new(depth.clone()))?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                _ = tick.tick() => {}
            }
            // A queue not declared yet (or a broker away) keeps its last value.
            for queue in &queues {
                if let Ok(n) = queue_depth(&broker, queue).await {
                    depth.with_label_values(&[queue.as_str(), "ready"]).set(i64::from(n));
                }
                if let Ok(n) = dlq_depth(&broker, queue).await {
                    depth.with_label_values(&[queue.as_str(), "dead"]).set(i64::from(n));
                }
            }
        }
    });
    Ok(())
}
