//! Integration events (ARCHITECTURE §4): the JSON envelope every message travels in, and the
//! typed payloads each service publishes. The routing key of a message is its event type.

use chrono::{DateTime, SubsecRound, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::EventId;

/// Implements [`EventPayload`] for a payload type with its routing key, at version 1.
macro_rules! event_payload {
    ($ty:ty, $event_type:expr) => {
        impl $crate::events::EventPayload for $ty {
            const TYPE: &'static str = $event_type;
            const VERSION: u16 = 1;
        }
    };
}

mod cart;
mod catalog;
mod order;
mod payment;

pub use cart::CartCheckedOut;
pub use catalog::{InventoryChanged, ProductChanged, ProductCreated, ProductDeleted, ProductUpdated};
pub use order::{
    OrderCanceled, OrderClosed, OrderCreated, OrderDisputed, OrderExpired, OrderItemRef, OrderPaid,
    OrderRefunded,
};
pub use payment::{
    PaymentCanceled, PaymentDisputeClosed, PaymentDisputed, PaymentFacts, PaymentFailed, PaymentProcessing,
    PaymentRefunded, PaymentRequiresAction, PaymentSucceeded,
};

/// The one durable topic exchange every service publishes to.
pub const EXCHANGE: &str = "commerce.events";

/// Routing keys, one per event type (the same strings as each payload's `TYPE`).
pub mod routing {
    /// A product was created.
    pub const PRODUCT_CREATED: &str = "product.created";
    /// A product's details changed.
    pub const PRODUCT_UPDATED: &str = "product.updated";
    /// A product was (soft) deleted.
    pub const PRODUCT_DELETED: &str = "product.deleted";
    /// A product's stock or reservations changed.
    pub const INVENTORY_CHANGED: &str = "inventory.changed";
    /// A cart became an order.
    pub const CART_CHECKED_OUT: &str = "cart.checked_out";
    /// An order was placed.
    pub const ORDER_CREATED: &str = "order.created";
    /// An order was paid.
    pub const ORDER_PAID: &str = "order.paid";
    /// An order was canceled before payment.
    pub const ORDER_CANCELED: &str = "order.canceled";
    /// An order was not paid in time.
    pub const ORDER_EXPIRED: &str = "order.expired";
    /// Money was refunded on an order.
    pub const ORDER_REFUNDED: &str = "order.refunded";
    /// A payment on an order was disputed.
    pub const ORDER_DISPUTED: &str = "order.disputed";
    /// A payment succeeded.
    pub const PAYMENT_SUCCEEDED: &str = "payment.succeeded";
    /// A payment attempt failed.
    pub const PAYMENT_FAILED: &str = "payment.failed";
    /// A payment was canceled.
    pub const PAYMENT_CANCELED: &str = "payment.canceled";
    /// A payment is processing.
    pub const PAYMENT_PROCESSING: &str = "payment.processing";
    /// A payment needs customer action (such as 3-D Secure).
    pub const PAYMENT_REQUIRES_ACTION: &str = "payment.requires_action";
    /// A payment was refunded, in part or in full.
    pub const PAYMENT_REFUNDED: &str = "payment.refunded";
    /// A payment was disputed.
    pub const PAYMENT_DISPUTED: &str = "payment.disputed";
    /// A payment dispute was closed.
    pub const PAYMENT_DISPUTE_CLOSED: &str = "payment.dispute_closed";

    /// Every routing key, for binding queues and checking tables.
    pub const ALL: &[&str] = &[
        PRODUCT_CREATED,
        PRODUCT_UPDATED,
        PRODUCT_DELETED,
        INVENTORY_CHANGED,
        CART_CHECKED_OUT,
        ORDER_CREATED,
        ORDER_PAID,
        ORDER_CANCELED,
        ORDER_EXPIRED,
        ORDER_REFUNDED,
        ORDER_DISPUTED,
        PAYMENT_SUCCEEDED,
        PAYMENT_FAILED,
        PAYMENT_CANCELED,
        PAYMENT_PROCESSING,
        PAYMENT_REQUIRES_ACTION,
        PAYMENT_REFUNDED,
        PAYMENT_DISPUTED,
        PAYMENT_DISPUTE_CLOSED,
    ];
}

/// A typed event body: its type (= routing key) and schema version travel in the envelope.
pub trait EventPayload: Serialize + DeserializeOwned {
    /// The event type and routing key, e.g. `"order.paid"`.
    const TYPE: &'static str;
    /// The newest schema version this code writes and reads. Older versions must stay readable.
    const VERSION: u16;
}

/// The JSON envelope of every integration event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique id (UUID v7); consumers deduplicate on it.
    pub id: EventId,
    /// The event type, also the routing key.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The payload's schema version.
    pub version: u16,
    /// When the change happened (RFC 3339, UTC).
    pub occurred_at: DateTime<Utc>,
    /// The service that published it, e.g. `"catalog"`.
    pub source: String,
    /// Ties together the events of one purchase or request, when known.
    pub correlation_id: Option<String>,
    /// The payload.
    pub data: serde_json::Value,
}

/// Why an envelope could not be read as a given payload type.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// The envelope carries a different event type.
    #[error("expected a {expected} event, got {actual}")]
    WrongType {
        /// The type the caller asked for.
        expected: &'static str,
        /// The type in the envelope.
        actual: String,
    },
    /// The envelope's version is newer than this code understands (or zero).
    #[error("{event_type} version {actual} is not supported (known: 1 to {supported})")]
    UnsupportedVersion {
        /// The event type.
        event_type: &'static str,
        /// The version in the envelope.
        actual: u16,
        /// The newest version this code reads.
        supported: u16,
    },
    /// `data` does not match the payload's schema.
    #[error("malformed {event_type} data: {source}")]
    Data {
        /// The event type.
        event_type: &'static str,
        /// What serde found wrong.
        source: serde_json::Error,
    },
}

impl Envelope {
    /// Wraps `payload` in a new envelope: fresh v7 id, type and version from the payload, now.
    pub fn new<P: EventPayload>(
        source: &str,
        payload: &P,
        correlation_id: Option<String>,
    ) -> Result<Envelope, serde_json::Error> {
        Ok(Envelope {
            id: EventId::new(),
            event_type: P::TYPE.to_owned(),
            version: P::VERSION,
            // PostgreSQL keeps microseconds; trimming here keeps a stored copy equal to the sent one.
            occurred_at: Utc::now().trunc_subsecs(6),
            source: source.to_owned(),
            correlation_id,
            data: serde_json::to_value(payload)?,
        })
    }

    /// Whether this envelope carries a `P`.
    pub fn is<P: EventPayload>(&self) -> bool {
        self.event_type == P::TYPE
    }

    /// Reads the payload as a `P`: the type must match and the version be in `1..=P::VERSION`.
    ///
    /// Older versions are accepted because versions only ever add optional fields; a breaking
    /// change gets a new event type instead.
    pub fn decode<P: EventPayload>(&self) -> Result<P, DecodeError> {
        if self.event_type != P::TYPE {
            return Err(DecodeError::WrongType { expected: P::TYPE, actual: self.event_type.clone() });
        }
        if self.version == 0 || self.version > P::VERSION {
            return Err(DecodeError::UnsupportedVersion {
                event_type: P::TYPE,
                actual: self.version,
                supported: P::VERSION,
            });
        }
        P::deserialize(&self.data).map_err(|source| DecodeError::Data { event_type: P::TYPE, source })
    }
}
