//! Exchange and queue declarations.
//!
//! Each consumer owns three queues:
//! - `<queue>`: durable quorum queue bound to the exchange with the consumer's routing keys;
//! - `<queue>.retry`: durable queue where failed messages wait out their back-off (per-message
//!   `expiration`), then dead-letter back to `<queue>` through the default exchange;
//! - `<queue>.dlq`: durable quorum queue where messages park after their last attempt.
//!
//! Messages expire only at the head of `<queue>.retry`, so a short back-off queued behind a
//! longer one waits for it: retries are "at least" their back-off, never earlier.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

use super::message::short;
use super::{Broker, EventsError};

/// Deliveries of one message to consumers of the main queue before the broker itself parks it
/// in `<queue>.dlq` (`x-delivery-limit`): a guard against a consumer crashing on a message
/// over and over, far above what retries and reconnects ever cause.
pub const DELIVERY_LIMIT: i64 = 50;

/// Options for a consumer's queues.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueOptions {
    /// `x-expires`: delete the queues after this long unused (tests set it so nothing stays behind).
    pub expires: Option<Duration>,
}

/// The retry queue of `queue`.
pub fn retry_name(queue: &str) -> String {
    format!("{queue}.retry")
}

/// The dead-letter queue of `queue`.
pub fn dlq_name(queue: &str) -> String {
    format!("{queue}.dlq")
}

/// Declares the broker's durable topic exchange.
pub async fn declare_exchange(channel: &Channel, broker: &Broker) -> Result<(), EventsError> {
    let options = ExchangeDeclareOptions {
        durable: true,
        auto_delete: broker.exchange_is_temporary(),
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(short(broker.exchange())?, ExchangeKind::Topic, options, FieldTable::default())
        .await?;
    Ok(())
}

/// Declares `<queue>` (bound to `routing_keys` on `exchange`), `<queue>.retry` and `<queue>.dlq`.
pub async fn declare_consumer_queue(
    channel: &Channel,
    exchange: &str,
    queue: &str,
    routing_keys: &[&str],
    opts: &QueueOptions,
) -> Result<(), EventsError> {
    let retry = retry_name(queue);
    let dlq = dlq_name(queue);
    let durable = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };

    let mut dlq_args = base_args(opts);
    put_str(&mut dlq_args, "x-queue-type", "quorum");
    channel.queue_declare(short(&dlq)?, durable, dlq_args).await?;

    let mut main_args = base_args(opts);
    put_str(&mut main_args, "x-queue-type", "quorum");
    main_args.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(DELIVERY_LIMIT));
    put_str(&mut main_args, "x-dead-letter-exchange", "");
    put_str(&mut main_args, "x-dead-letter-routing-key", &dlq);
    channel.queue_declare(short(queue)?, durable, main_args).await?;

    let mut retry_args = base_args(opts);
    put_str(&mut retry_args, "x-dead-letter-exchange", "");
    put_str(&mut retry_args, "x-dead-letter-routing-key", queue);
    channel.queue_declare(short(&retry)?, durable, retry_args).await?;

    for key in routing_keys {
        channel
            .queue_bind(
                short(queue)?,
                short(exchange)?,
                short(key)?,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}

fn base_args(opts: &QueueOptions) -> FieldTable {
    let mut args = FieldTable::default();
    if let Some(expires) = opts.expires {
        let ms = i64::try_from(expires.as_millis()).unwrap_or(i64::MAX).max(1);
        args.insert("x-expires".into(), AMQPValue::LongLongInt(ms));
    }
    args
}

fn put_str(table: &mut FieldTable, key: &str, value: &str) {
    table.insert(ShortString::from(key), AMQPValue::LongString(LongString::from(value.as_bytes())));
}
