//! Stripe events → `payment.*` events (pure: no I/O).
//!
//! Only the fields the platform needs are read, straight from the JSON, so an API-version
//! change in fields we do not use cannot break intake. The order is found through
//! `metadata.order_id` on the event's object: on a PaymentIntent it is the order's own metadata,
//! on a Charge it is the copy Stripe makes from its PaymentIntent, on a Dispute it is present
//! only when someone put it there. When the object has none, the handler falls back to an
//! earlier stored event of the same PaymentIntent (see `repo::order_for_payment_intent`); if
//! none is known either, the event is published with `payment_intent_id` only and order finds
//! its order by that.

use domain::OrderId;
use domain::events::{
    Envelope, EventPayload, PaymentCanceled, PaymentDisputeClosed, PaymentDisputed, PaymentFacts,
    PaymentFailed, PaymentProcessing, PaymentRefunded, PaymentRequiresAction, PaymentSucceeded,
};
use domain::money::Currency;
use serde_json::Value;

/// `source` of the envelopes this service writes.
pub const SOURCE: &str = "payment-webhook";

/// The envelope fields of a Stripe event, read from its JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeEvent<'a> {
    /// `evt_...`: the deduplication key.
    pub id: &'a str,
    /// e.g. `payment_intent.succeeded`.
    pub event_type: &'a str,
    /// Unix seconds.
    pub created: i64,
    /// The API version the object is rendered in.
    pub api_version: Option<&'a str>,
    /// Live or test mode.
    pub livemode: bool,
    /// `data.object`.
    pub object: &'a Value,
}

/// Why a verified body is not a Stripe event we can store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not an object with `id`, `type`, `created` and `data.object`.
    #[error("not a Stripe event: {0}")]
    NotAnEvent(&'static str),
}

/// Reads the envelope fields of a Stripe event.
pub fn read_event(value: &Value) -> Result<StripeEvent<'_>, EventError> {
    let id = value.get("id").and_then(Value::as_str).ok_or(EventError::NotAnEvent("`id` is missing"))?;
    if id.is_empty() || id.len() > 255 {
        return Err(EventError::NotAnEvent("`id` must be 1 to 255 characters"));
    }
    let event_type =
        value.get("type").and_then(Value::as_str).ok_or(EventError::NotAnEvent("`type` is missing"))?;
    if event_type.is_empty() || event_type.len() > 255 {
        return Err(EventError::NotAnEvent("`type` must be 1 to 255 characters"));
    }
    let created =
        value.get("created").and_then(Value::as_i64).ok_or(EventError::NotAnEvent("`created` is missing"))?;
    let object = value
        .get("data")
        .and_then(|d| d.get("object"))
        .filter(|o| o.is_object())
        .ok_or(EventError::NotAnEvent("`data.object` is missing"))?;
    Ok(StripeEvent {
        id,
        event_type,
        created,
        api_version: value.get("api_version").and_then(Value::as_str),
        livemode: value.get("livemode").and_then(Value::as_bool).unwrap_or(false),
        object,
    })
}

/// The `payment.*` event a Stripe type maps to, with what only that kind carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `payment_intent.succeeded`.
    Succeeded,
    /// `payment_intent.payment_failed`.
    Failed {
        /// `last_payment_error.code`.
        code: Option<String>,
        /// `last_payment_error.message`.
        message: Option<String>,
    },
    /// `payment_intent.canceled`.
    Canceled,
    /// `payment_intent.processing`, or `payment_intent.amount_capturable_updated` (authorised,
    /// waiting for a manual capture).
    Processing,
    /// `payment_intent.requires_action`.
    RequiresAction,
    /// `charge.refunded`.
    Refunded {
        /// The charge's cumulative `amount_refunded`.
        amount_refunded_cents: i64,
    },
    /// `charge.dispute.created`.
    Disputed {
        /// `du_...`.
        dispute_id: String,
        /// The dispute's `status`.
        status: String,
    },
    /// `charge.dispute.closed`.
    DisputeClosed {
        /// `du_...`.
        dispute_id: String,
        /// The dispute's final `status`.
        status: String,
    },
}

/// A handled Stripe event, read: everything but (perhaps) the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// What happened.
    pub kind: Kind,
    /// `metadata.order_id` of the event's object, when present and a positive integer.
    pub order_id: Option<OrderId>,
    /// The PaymentIntent (`pi_...`).
    pub payment_intent_id: String,
    /// `amount` of the object, in minor units.
    pub amount_cents: i64,
    /// `currency` of the object.
    pub currency: Currency,
}

/// What a Stripe event means to the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// A payment event (published, with the order when it is known).
    Payment(Payment),
    /// A type this service does not handle: stored, acknowledged, not published.
    Unhandled,
    /// A handled type whose object lacks what the payment event needs; the reason names the field.
    Invalid {
        /// The PaymentIntent, when it could be read.
        payment_intent_id: Option<String>,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The Stripe event types this service turns into payment events.
pub const HANDLED_TYPES: &[&str] = &[
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
    "payment_intent.amount_capturable_updated",
    "payment_intent.requires_action",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
];

/// Maps a Stripe event to what it means for the platform.
pub fn map(event: &StripeEvent<'_>) -> Mapping {
    let o = event.object;
    let kind = match event.event_type {
        "payment_intent.succeeded" => Kind::Succeeded,
        "payment_intent.payment_failed" => {
            let error = o.get("last_payment_error");
            let text = |key: &str| error.and_then(|e| e.get(key)).and_then(Value::as_str).map(str::to_owned);
            Kind::Failed { code: text("code"), message: text("message") }
        }
        "payment_intent.canceled" => Kind::Canceled,
        // Authorised, waiting for a manual capture: for the order, the money is in flight.
        "payment_intent.processing" | "payment_intent.amount_capturable_updated" => Kind::Processing,
        "payment_intent.requires_action" => Kind::RequiresAction,
        "charge.refunded" => match o.get("amount_refunded").and_then(Value::as_i64) {
            Some(n) if n >= 0 => Kind::Refunded { amount_refunded_cents: n },
            _ => return invalid(o, "charge has no valid `amount_refunded`"),
        },
        "charge.dispute.created" | "charge.dispute.closed" => {
            let (Some(id), Some(status)) = (str_field(o, "id"), str_field(o, "status")) else {
                return invalid(o, "dispute has no `id` or `status`");
            };
            let (dispute_id, status) = (id.to_owned(), status.to_owned());
            if event.event_type == "charge.dispute.created" {
                Kind::Disputed { dispute_id, status }
            } else {
                Kind::DisputeClosed { dispute_id, status }
            }
        }
        _ => return Mapping::Unhandled,
    };
    let Some(payment_intent_id) = payment_intent_of(event.event_type, o) else {
        return Mapping::Invalid { payment_intent_id: None, reason: "object names no PaymentIntent" };
    };
    // A succeeded PaymentIntent's money is what was captured (`amount_received`: a partial
    // capture is less than `amount`); order reads Stripe's objects anyway (ADR 0071).
    let amount_field = if event.event_type == "payment_intent.succeeded" && o.get("amount_received").is_some()
    {
        "amount_received"
    } else {
        "amount"
    };
    let Some(amount_cents) = o.get(amount_field).and_then(Value::as_i64).filter(|a| *a >= 0) else {
        return invalid(o, "object has no valid `amount`");
    };
    // Stripe writes currencies in lower case; the platform's codes are upper case.
    let Some(currency) =
        str_field(o, "currency").and_then(|c| c.to_ascii_uppercase().parse::<Currency>().ok())
    else {
        return invalid(o, "object's `currency` is missing or not one the shop sells in");
    };
    Mapping::Payment(Payment {
        kind,
        order_id: metadata_order_id(o),
        payment_intent_id,
        amount_cents,
        currency,
    })
}

fn invalid(object: &Value, reason: &'static str) -> Mapping {
    let payment_intent_id = str_field(object, "payment_intent")
        .or_else(|| object.get("payment_intent").and_then(|p| str_field(p, "id")))
        .map(str::to_owned);
    Mapping::Invalid { payment_intent_id, reason }
}

fn str_field<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The PaymentIntent id: the object itself for `payment_intent.*`, else its `payment_intent`
/// (an id, or an expanded object).
fn payment_intent_of(event_type: &str, object: &Value) -> Option<String> {
    let id = if event_type.starts_with("payment_intent.") {
        str_field(object, "id")
    } else {
        match object.get("payment_intent")? {
            Value::String(s) if !s.is_empty() => Some(s.as_str()),
            expanded @ Value::Object(_) => str_field(expanded, "id"),
            _ => None,
        }
    };
    id.map(str::to_owned)
}

/// `metadata.order_id` as a positive integer (Stripe metadata values are strings; a number is
/// accepted too). Anything else counts as no order id.
pub fn metadata_order_id(object: &Value) -> Option<OrderId> {
    let raw = object.get("metadata")?.get("order_id")?;
    let id = match raw {
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    (id > 0).then_some(OrderId(id))
}

impl Payment {
    /// The routing key of the event this becomes.
    pub fn event_type(&self) -> &'static str {
        match self.kind {
            Kind::Succeeded => PaymentSucceeded::TYPE,
            Kind::Failed { .. } => PaymentFailed::TYPE,
            Kind::Canceled => PaymentCanceled::TYPE,
            Kind::Processing => PaymentProcessing::TYPE,
            Kind::RequiresAction => PaymentRequiresAction::TYPE,
            Kind::Refunded { .. } => PaymentRefunded::TYPE,
            Kind::Disputed { .. } => PaymentDisputed::TYPE,
            Kind::DisputeClosed { .. } => PaymentDisputeClosed::TYPE,
        }
    }

    /// The envelope to publish, for `order_id` when known, carrying the Stripe event's id and `created`.
    pub fn envelope(
        &self,
        order_id: Option<OrderId>,
        event: &StripeEvent<'_>,
    ) -> Result<Envelope, serde_json::Error> {
        let payment = PaymentFacts {
            order_id,
            payment_intent_id: self.payment_intent_id.clone(),
            amount_cents: self.amount_cents,
            currency: self.currency,
            stripe_event_id: event.id.to_owned(),
            stripe_created: event.created,
        };
        match &self.kind {
            Kind::Succeeded => wrap(&PaymentSucceeded { payment }),
            Kind::Failed { code, message } => {
                wrap(&PaymentFailed { payment, failure_code: code.clone(), failure_message: message.clone() })
            }
            Kind::Canceled => wrap(&PaymentCanceled { payment }),
            Kind::Processing => wrap(&PaymentProcessing { payment }),
            Kind::RequiresAction => wrap(&PaymentRequiresAction { payment }),
            Kind::Refunded { amount_refunded_cents } => {
                wrap(&PaymentRefunded { payment, amount_refunded_cents: *amount_refunded_cents })
            }
            Kind::Disputed { dispute_id, status } => wrap(&PaymentDisputed {
                payment,
                dispute_id: dispute_id.clone(),
                dispute_status: status.clone(),
            }),
            Kind::DisputeClosed { dispute_id, status } => wrap(&PaymentDisputeClosed {
                payment,
                dispute_id: dispute_id.clone(),
                dispute_status: status.clone(),
            }),
        }
    }
}

fn wrap<P: EventPayload>(payload: &P) -> Result<Envelope, serde_json::Error> {
    Envelope::new(SOURCE, payload, None)
}

#[cfg(test)]
#[allow(clippy::needless_pass_by_value)] // json! takes its values by reference
mod tests {
    use serde_json::json;

    use super::*;

    fn event(event_type: &str, object: Value) -> Value {
        json!({"id": "evt_1", "object": "event", "type": event_type, "created": 1_700_000_000,
               "api_version": "2024-06-20", "livemode": false, "data": {"object": object}})
    }

    fn pi(metadata: Value) -> Value {
        json!({"id": "pi_1", "object": "payment_intent", "amount": 2999, "currency": "usd", "metadata": metadata})
    }

    fn mapped(value: &Value) -> Mapping {
        map(&read_event(value).unwrap())
    }

    #[test]
    fn envelope_fields_are_read_and_required() {
        let v = event("payment_intent.succeeded", pi(json!({})));
        let e = read_event(&v).unwrap();
        assert_eq!(
            (e.id, e.event_type, e.created, e.api_version, e.livemode),
            ("evt_1", "payment_intent.succeeded", 1_700_000_000, Some("2024-06-20"), false)
        );
        for broken in [
            json!([]),
            json!({"id": "evt_1"}),
            json!({"id": "", "type": "x", "created": 1, "data": {"object": {}}}),
            json!({"id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}}),
            json!({"id": "evt_1", "type": "x", "created": 1, "data": {}}),
        ] {
            assert!(read_event(&broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn payment_intent_events_map_with_their_metadata_order() {
        let cases = [
            ("payment_intent.succeeded", "payment.succeeded"),
            ("payment_intent.payment_failed", "payment.failed"),
            ("payment_intent.canceled", "payment.canceled"),
            ("payment_intent.processing", "payment.processing"),
            ("payment_intent.requires_action", "payment.requires_action"),
        ];
        for (stripe, ours) in cases {
            let Mapping::Payment(p) = mapped(&event(stripe, pi(json!({"order_id": "42"})))) else {
                panic!("{stripe} is handled")
            };
            assert_eq!(p.event_type(), ours);
            assert_eq!(p.order_id, Some(OrderId(42)));
            assert_eq!(
                (p.payment_intent_id.as_str(), p.amount_cents, p.currency),
                ("pi_1", 2999, Currency::Usd)
            );
        }
    }

    #[test]
    fn failure_details_refunds_and_disputes_carry_their_extra_fields() {
        let mut failed = pi(json!({"order_id": "7"}));
        failed["last_payment_error"] = json!({"code": "card_declined", "message": "Your card was declined."});
        let Mapping::Payment(p) = mapped(&event("payment_intent.payment_failed", failed)) else { panic!() };
        assert_eq!(
            p.kind,
            Kind::Failed {
                code: Some("card_declined".into()),
                message: Some("Your card was declined.".into())
            }
        );

        let charge = json!({"id": "ch_1", "object": "charge", "amount": 5000, "amount_refunded": 1500,
                            "currency": "eur", "payment_intent": "pi_9", "metadata": {"order_id": "8"}});
        let Mapping::Payment(p) = mapped(&event("charge.refunded", charge)) else { panic!() };
        assert_eq!(p.kind, Kind::Refunded { amount_refunded_cents: 1500 });
        assert_eq!(
            (p.payment_intent_id.as_str(), p.order_id, p.currency),
            ("pi_9", Some(OrderId(8)), Currency::Eur)
        );

        let dispute = json!({"id": "du_1", "object": "dispute", "amount": 5000, "currency": "gbp",
                             "status": "lost", "charge": "ch_1", "payment_intent": {"id": "pi_9"}, "metadata": {}});
        let Mapping::Payment(p) = mapped(&event("charge.dispute.closed", dispute)) else { panic!() };
        assert_eq!(p.kind, Kind::DisputeClosed { dispute_id: "du_1".into(), status: "lost".into() });
        assert_eq!((p.payment_intent_id.as_str(), p.order_id), ("pi_9", None));
    }

    #[test]
    fn a_partial_capture_publishes_what_was_received_not_what_was_asked() {
        let mut partial = pi(json!({"order_id": "3"}));
        partial["amount"] = json!(4000);
        partial["amount_received"] = json!(1000);
        let Mapping::Payment(p) = mapped(&event("payment_intent.succeeded", partial.clone())) else {
            panic!()
        };
        assert_eq!(p.amount_cents, 1000);
        // Any other kind still carries the asked amount.
        let Mapping::Payment(p) = mapped(&event("payment_intent.processing", partial)) else { panic!() };
        assert_eq!(p.amount_cents, 4000);
    }

    #[test]
    fn unknown_types_are_unhandled_and_broken_objects_invalid() {
        assert_eq!(mapped(&event("customer.created", json!({"id": "cus_1"}))), Mapping::Unhandled);
        let mut yen = pi(json!({"order_id": "1"}));
        yen["currency"] = json!("jpy");
        assert!(matches!(mapped(&event("payment_intent.succeeded", yen)), Mapping::Invalid { .. }));
        let no_pi = json!({"id": "ch_1", "amount": 1, "amount_refunded": 1, "currency": "usd"});
        assert!(matches!(
            mapped(&event("charge.refunded", no_pi)),
            Mapping::Invalid { payment_intent_id: None, .. }
        ));
        let negative = json!({"id": "ch_1", "amount": 1, "amount_refunded": -1, "currency": "usd", "payment_intent": "pi_2"});
        assert_eq!(
            mapped(&event("charge.refunded", negative)),
            Mapping::Invalid {
                payment_intent_id: Some("pi_2".into()),
                reason: "charge has no valid `amount_refunded`"
            }
        );
    }

    #[test]
    fn order_ids_must_be_positive_integers() {
        for (metadata, expected) in [
            (json!({"order_id": "42"}), Some(OrderId(42))),
            (json!({"order_id": 42}), Some(OrderId(42))),
            (json!({"order_id": " 9 "}), Some(OrderId(9))),
            (json!({"order_id": "0"}), None),
            (json!({"order_id": "-3"}), None),
            (json!({"order_id": "abc"}), None),
            (json!({"order_id": null}), None),
            (json!({}), None),
        ] {
            assert_eq!(metadata_order_id(&json!({ "metadata": metadata })), expected, "{metadata}");
        }
    }

    #[test]
    fn the_envelope_carries_stripe_id_and_created() {
        let v = event(
            "charge.refunded",
            json!({"id": "ch_1", "amount": 5000, "amount_refunded": 5000,
                                                 "currency": "usd", "payment_intent": "pi_1"}),
        );
        let e = read_event(&v).unwrap();
        let Mapping::Payment(p) = map(&e) else { panic!() };
        let envelope = p.envelope(Some(OrderId(5)), &e).unwrap();
        assert_eq!((envelope.event_type.as_str(), envelope.source.as_str()), ("payment.refunded", SOURCE));
        let body: PaymentRefunded = envelope.decode().unwrap();
        assert_eq!(body.amount_refunded_cents, 5000);
        assert_eq!(body.payment.stripe_event_id, "evt_1");
        assert_eq!(body.payment.stripe_created, 1_700_000_000);
        assert_eq!(body.payment.order_id, Some(OrderId(5)));
        let anonymous = p.envelope(None, &e).unwrap().decode::<PaymentRefunded>().unwrap();
        assert_eq!(
            (anonymous.payment.order_id, anonymous.payment.payment_intent_id.as_str()),
            (None, "pi_1")
        );
    }
}
