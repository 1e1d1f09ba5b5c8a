//! `order worker`: customer emails. The consumer turns `order.paid`, `order.refunded`,
//! `order.canceled` and `order.expired` into rows of `email_notifications` (one per dedupe key,
//! in the consumer's transaction); the sender claims due rows and sends them over SMTP.
//! Why an email is never sent twice: docs/adr/0070-checkout.md, "Email at most once".

pub mod email;
pub mod metrics;
pub mod repo;
pub mod sender;

use diesel_async::AsyncPgConnection;
use domain::events::{
    Envelope, EventPayload, OrderCanceled, OrderExpired, OrderPaid, OrderRefunded, routing,
};
use domain::ids::OrderId;
pub use platform::events::ConsumerOptions;
use platform::events::{EventHandler, HandlerError};

use platform::config::ExposeSecret;
use platform::service::{Resources, ServiceSpec};

use self::metrics::EmailMetrics;
use self::sender::Sender;
use crate::INFO;
use crate::config::OrderConfig;
use crate::orders::repo as orders;

/// The worker's queue (and its name in `processed_events`).
pub const QUEUE: &str = "order.notifications";

/// `order worker` from configuration: the email consumer and sender, no API routes (the
/// runner still serves `/health`, `/ready` and `/metrics` on `HTTP_ADDR`); it publishes
/// nothing, so no relay.
pub fn describe(config: &OrderConfig, res: &Resources) -> anyhow::Result<ServiceSpec> {
    let sender = Sender::new(
        res.pool.clone(),
        config.smtp_url.expose_secret(),
        &config.mail_from,
        EmailMetrics::register(&res.registry)?,
    )?;
    Ok(ServiceSpec::new(&INFO)
        .without_relay()
        .consumer(options(), NotificationEvents)
        .task("email-sender", move |stop| sender.run(std::time::Duration::from_secs(1), stop)))
}

/// Queue and bindings.
pub fn options() -> ConsumerOptions {
    ConsumerOptions::new(
        QUEUE,
        QUEUE,
        &[routing::ORDER_PAID, routing::ORDER_REFUNDED, routing::ORDER_CANCELED, routing::ORDER_EXPIRED],
    )
}

/// Queues customer emails for order events.
pub struct NotificationEvents;

fn decode<P: EventPayload>(event: &Envelope) -> Result<P, HandlerError> {
    event.decode::<P>().map_err(|e| HandlerError::permanent(e.to_string()))
}

impl EventHandler for NotificationEvents {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let (order_id, key, build): (OrderId, String, Build) = match event.event_type.as_str() {
            routing::ORDER_PAID => {
                let e: OrderPaid = decode(event)?;
                (e.order_id, format!("order.paid:{}", e.order_id), Build::Paid)
            }
            routing::ORDER_REFUNDED => {
                let e: OrderRefunded = decode(event)?;
                // One email per refund: the event id names the refund.
                (e.order_id, format!("order.refunded:{}", event.id), Build::Refunded(e.amount_cents, e.fully))
            }
            routing::ORDER_CANCELED => {
                let OrderCanceled(e) = decode(event)?;
                if e.reason == "stock_gone_after_payment" {
                    // The refund email says it.
                    return Ok(());
                }
                (e.order_id, format!("order.closed:{}", e.order_id), Build::Closed(false))
            }
            routing::ORDER_EXPIRED => {
                let OrderExpired(e) = decode(event)?;
                (e.order_id, format!("order.closed:{}", e.order_id), Build::Closed(true))
            }
            _ => return Ok(()),
        };
        let Some(order) = orders::by_id(conn, order_id).await? else {
            tracing::warn!(order_id = %order_id, "notification for an unknown order");
            return Ok(());
        };
        let currency = order.currency().map_err(|e| HandlerError::permanent(e.to_string()))?;
        let mail = match build {
            Build::Paid => {
                let items = orders::items(conn, order_id).await?;
                email::paid(&order, &items, currency)
            }
            Build::Refunded(amount, fully) => email::refunded(&order, amount, fully, currency),
            Build::Closed(expired) => email::closed(&order, expired),
        };
        repo::queue_email(conn, &key, order_id, &event.event_type, &order.customer_email, &mail).await?;
        Ok(())
    }
}

enum Build {
    Paid,
    Refunded(i64, bool),
    Closed(bool),
}
