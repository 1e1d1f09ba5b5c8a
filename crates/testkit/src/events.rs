//! Driving a service's consumers from a test: publish envelopes straight to the test's exchange
//! (as another service's relay would) and wait until a consumer is attached to its queue.

use std::time::Duration;

use domain::events::Envelope;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};
use platform::events::Broker;

use crate::wait_until;

const WAIT: Duration = Duration::from_secs(30);

/// Publishes `envelope` to the broker's exchange under its event type, with publisher confirms;
/// retries (across dropped connections) until the broker confirms it.
pub async fn publish(broker: &Broker, envelope: &Envelope) {
    let body = serde_json::to_vec(envelope).expect("serialize envelope");
    publish_raw(broker, &envelope.event_type, &body, &envelope.id.to_string()).await;
}

/// Publishes any bytes under `routing_key` (for malformed-message tests).
pub async fn publish_raw(broker: &Broker, routing_key: &str, body: &[u8], message_id: &str) {
    async fn once(broker: &Broker, routing_key: &str, body: &[u8], message_id: &str) -> Option<()> {
        let channel: Channel = broker.channel().await.ok()?;
        channel.confirm_select(ConfirmSelectOptions::default()).await.ok()?;
        let props = BasicProperties::default()
            .with_message_id(message_id.into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2);
        let confirm = channel
            .basic_publish(
                broker.exchange().into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                body,
                props,
            )
            .await
            .ok()?
            .await
            .ok()?;
        let _ = channel.close(200, "published".into()).await;
        confirm.is_ack().then_some(())
    }
    wait_until(WAIT, "a test publish to be confirmed", || once(broker, routing_key, body, message_id)).await;
}

/// Waits until `queue` exists and has a consumer (so what is published next is not lost).
pub async fn wait_for_consumer(broker: &Broker, queue: &str) {
    async fn attached(broker: &Broker, queue: &str) -> Option<()> {
        let channel = broker.channel().await.ok()?;
        let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
        let q = channel.queue_declare(queue.into(), options, FieldTable::default()).await.ok()?;
        let _ = channel.close(200, "checked".into()).await;
        (q.consumer_count() > 0).then_some(())
    }
    wait_until(WAIT, "a consumer to attach to its queue", || attached(broker, queue)).await;
}
