//! Driving a service's consumers from a test: publish envelopes straight to the test's exchange
//! (as another service's relay would) and wait until a consumer is attached to its queue.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use domain::events::Envelope;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};
use platform::db::PgPool;
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

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Waits until the relay has published every outbox row of the service on `pool` (so every
/// message is in `queue`), then takes and acks every envelope in `queue`.
pub async fn published(broker: &Broker, queue: &str, pool: &PgPool) -> Vec<Envelope> {
    wait_until(WAIT, "the outbox to be published", || async {
        let mut conn = pool.get().await.ok()?;
        let pending = diesel::sql_query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            .get_result::<Pending>(&mut *conn)
            .await
            .ok()?;
        (pending.n == 0).then_some(())
    })
    .await;
    let channel = broker.channel().await.expect("a channel");
    let mut out = Vec::new();
    while let Some(msg) =
        channel.basic_get(queue.into(), BasicGetOptions::default()).await.expect("basic.get")
    {
        out.push(serde_json::from_slice(&msg.delivery.data).expect("an envelope"));
        msg.delivery.ack(BasicAckOptions::default()).await.expect("ack");
    }
    let _ = channel.close(200, "drained".into()).await;
    out
}
