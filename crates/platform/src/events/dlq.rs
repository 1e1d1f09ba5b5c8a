//! Operator tools for a consumer's dead-letter queue `<queue>.dlq`: depth, peek, redrive.

use lapin::options::{BasicAckOptions, BasicGetOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;

use super::message::{self, publish_confirmed, short};
use super::topology::dlq_name;
use super::{
    ATTEMPTS_HEADER, Broker, ERROR_HEADER, EventsError, FAILED_AT_HEADER, ORIGINAL_ROUTING_KEY_HEADER,
};

/// Headers dropped when a message is redriven (a fresh start for the consumer).
const RESET_HEADERS: [&str; 6] =
    [ERROR_HEADER, FAILED_AT_HEADER, ATTEMPTS_HEADER, "x-death", "x-delivery-count", "x-consumer"];

/// One dead-lettered message, as seen by [`peek_dlq`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// AMQP `message_id` (the event id).
    pub message_id: Option<String>,
    /// The event type it was published with.
    pub routing_key: Option<String>,
    /// The last handler error (`x-error`).
    pub error: Option<String>,
    /// Handler attempts made (`x-attempts`).
    pub attempts: Option<i64>,
    /// When it was dead-lettered (`x-failed-at`, RFC 3339).
    pub failed_at: Option<String>,
    /// The message body (normally the JSON envelope).
    pub body: Vec<u8>,
}

/// How many messages wait in `<queue>.dlq`.
pub async fn dlq_depth(broker: &Broker, queue: &str) -> Result<u32, EventsError> {
    queue_depth(broker, &dlq_name(queue)).await
}

/// How many messages are ready in `queue` (a passive declare: an unknown queue is an error).
pub async fn queue_depth(broker: &Broker, queue: &str) -> Result<u32, EventsError> {
    let channel = broker.channel().await?;
    let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
    let declared = channel.queue_declare(short(queue)?, options, FieldTable::default()).await;
    let _ = channel.close(200, "queue depth".into()).await;
    Ok(declared?.message_count())
}

/// Up to `limit` messages of `<queue>.dlq`, left in place (the broker takes them back
/// asynchronously: a [`dlq_depth`] right after may briefly not count them).
pub async fn peek_dlq(broker: &Broker, queue: &str, limit: usize) -> Result<Vec<DeadLetter>, EventsError> {
    let channel = broker.channel().await?;
    let dlq = short(&dlq_name(queue))?;
    let mut seen = Vec::new();
    while seen.len() < limit {
        let Some(got) = channel.basic_get(dlq.clone(), BasicGetOptions::default()).await? else {
            break;
        };
        let d = got.delivery;
        let props = &d.properties;
        seen.push(DeadLetter {
            message_id: props.message_id().as_ref().map(ToString::to_string),
            routing_key: message::header_str(props, ORIGINAL_ROUTING_KEY_HEADER),
            error: message::header_str(props, ERROR_HEADER),
            attempts: message::header_int(props, ATTEMPTS_HEADER),
            failed_at: message::header_str(props, FAILED_AT_HEADER),
            body: d.data.clone(),
        });
    }
    // Closing the channel hands every unacknowledged message back to the queue.
    let _ = channel.close(200, "dlq peek".into()).await;
    Ok(seen)
}

/// Moves up to `limit` messages (all present at its first fetch, if `None`) from `<queue>.dlq`
/// back to `<queue>` with their attempts reset; returns how many moved.
///
/// Each message is republished (publisher-confirmed) before its dead-letter copy is acked, so
/// a crash in between duplicates a message but never loses one.
pub async fn redrive(broker: &Broker, queue: &str, limit: Option<usize>) -> Result<usize, EventsError> {
    let channel = broker.channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    let dlq = short(&dlq_name(queue))?;
    // With no limit, take only what is there at the first fetch: a message that fails again
    // and comes back must not make this loop forever.
    let mut budget = limit;
    let mut moved = 0;
    while budget != Some(0) {
        let Some(got) = channel.basic_get(dlq.clone(), BasicGetOptions::default()).await? else {
            break;
        };
        let remaining = usize::try_from(got.message_count).unwrap_or(usize::MAX);
        let budget_left = budget.get_or_insert(remaining.saturating_add(1));
        *budget_left -= 1;
        let d = got.delivery;
        let mut headers = message::without(d.properties.headers().as_ref(), &RESET_HEADERS);
        message::set_int(&mut headers, ATTEMPTS_HEADER, 0);
        let props = message::without_expiration(&d.properties).with_headers(headers);
        publish_confirmed(&channel, "", queue, &d.data, props).await?;
        if !d.ack(BasicAckOptions::default()).await? {
            return Err(EventsError::Disconnected);
        }
        moved += 1;
    }
    let _ = channel.close(200, "redrive done".into()).await;
    if moved > 0 {
        tracing::info!(queue, moved, "dead-lettered messages redriven");
    }
    Ok(moved)
}
