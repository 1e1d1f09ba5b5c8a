//! The emulator's in-memory account: objects, events, webhook endpoints and saved
//! idempotent responses. One `Store` sits behind one mutex; every API call runs to completion
//! under it (no await inside), which gives the per-object serialisation Stripe has.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::ids;
use crate::objects::{Charge, Dispute, Event, EventData, EventRequest, PaymentIntent, Refund};

/// The API version events carry: the one async-stripe 1.0.0-rc.10 is generated from.
pub const API_VERSION: &str = "2026-09-30.endive";

/// Who is calling and when: stamped on the events an operation causes.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Emulator time, Unix seconds.
    pub now: i64,
    /// The `Request-Id` of the API call (`None` for control-plane changes, as Stripe's
    /// automatic events have none).
    pub request_id: Option<String>,
    /// The call's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// The emulator's base URL as the caller reached it (`http://127.0.0.1:12111`), for the
    /// pages it hands out (3-D Secure); `None` off the API (control calls, triggers).
    pub origin: Option<String>,
}

/// A configured webhook endpoint.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Endpoint {
    /// `we_...`.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The signing secret (`whsec_...`).
    pub secret: String,
    /// Event types delivered here; `*` is every type.
    pub enabled_events: Vec<String>,
    /// When it was created (emulator time).
    pub created: i64,
    /// Free text given at creation.
    pub description: Option<String>,
}

impl Endpoint {
    /// Whether events of `type_` go to this endpoint.
    pub fn wants(&self, type_: &str) -> bool {
        self.enabled_events.iter().any(|e| e == "*" || e == type_)
    }
}

/// A response saved under an idempotency key.
#[derive(Debug, Clone)]
pub struct Saved {
    /// When the key was first used (emulator time).
    pub at: i64,
    /// `METHOD path` the key was used for.
    pub route: String,
    /// The parameters the key was used with.
    pub params: serde_json::Map<String, Value>,
    /// HTTP status of the first response.
    pub status: u16,
    /// Body of the first response.
    pub body: Value,
}

/// Everything the emulated account holds.
#[derive(Debug, Default)]
pub struct Store {
    pub(crate) payment_intents: HashMap<String, PaymentIntent>,
    pub(crate) charges: HashMap<String, Charge>,
    pub(crate) refunds: HashMap<String, Refund>,
    pub(crate) disputes: HashMap<String, Dispute>,
    events: Vec<Event>,
    event_index: HashMap<String, usize>,
    pub(crate) endpoints: Vec<Endpoint>,
    /// Keyed by (API key, idempotency key): keys are scoped to the account's key.
    pub(crate) idempotency: HashMap<(String, String), Saved>,
    /// Events created by the current operation, to be delivered once the lock is released.
    outbox: Vec<Event>,
}

/// Serialises an object; these structs always serialise, `Null` is only a fallback.
pub fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Store {
    /// Records an event of `type_` about `object` and queues it for delivery.
    pub fn emit(&mut self, ctx: &Ctx, type_: &str, object: Value, previous: Option<Value>) -> Event {
        let event = Event {
            id: ids::new("evt"),
            object: "event",
            api_version: API_VERSION,
            created: ctx.now,
            data: EventData { object, previous_attributes: previous },
            livemode: false,
            pending_webhooks: self.endpoints.iter().filter(|e| e.wants(type_)).count(),
            request: EventRequest {
                id: ctx.request_id.clone(),
                idempotency_key: ctx.idempotency_key.clone(),
            },
            type_: type_.to_owned(),
        };
        self.event_index.insert(event.id.clone(), self.events.len());
        self.events.push(event.clone());
        self.outbox.push(event.clone());
        event
    }

    /// Takes the events queued since the last call.
    pub fn take_outbox(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.outbox)
    }

    /// An event by id.
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.event_index.get(id).and_then(|&i| self.events.get(i))
    }

    /// Every event, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// A PaymentIntent by id, or Stripe's 404.
    pub fn pi(&self, id: &str) -> Result<&PaymentIntent, ApiError> {
        self.payment_intents.get(id).ok_or_else(|| ApiError::no_such("payment_intent", id, "intent"))
    }

    /// A PaymentIntent by id for changing, or Stripe's 404.
    pub fn pi_mut(&mut self, id: &str) -> Result<&mut PaymentIntent, ApiError> {
        self.payment_intents.get_mut(id).ok_or_else(|| ApiError::no_such("payment_intent", id, "intent"))
    }

    /// A Charge by id, or Stripe's 404.
    pub fn charge(&self, id: &str) -> Result<&Charge, ApiError> {
        self.charges.get(id).ok_or_else(|| ApiError::no_such("charge", id, "charge"))
    }

    /// A Refund by id, or Stripe's 404.
    pub fn refund(&self, id: &str) -> Result<&Refund, ApiError> {
        self.refunds.get(id).ok_or_else(|| ApiError::no_such("refund", id, "refund"))
    }

    /// A Dispute by id, or Stripe's 404.
    pub fn dispute(&self, id: &str) -> Result<&Dispute, ApiError> {
        self.disputes.get(id).ok_or_else(|| ApiError::no_such("dispute", id, "dispute"))
    }

    /// Emits `type_` with the PaymentIntent's current state.
    pub fn emit_pi(&mut self, ctx: &Ctx, type_: &str, id: &str) {
        if let Some(pi) = self.payment_intents.get(id) {
            let object = to_json(pi);
            self.emit(ctx, type_, object, None);
        }
    }

    /// Emits `type_` with the Charge's current state.
    pub fn emit_charge(&mut self, ctx: &Ctx, type_: &str, id: &str, previous: Option<Value>) {
        if let Some(charge) = self.charges.get(id) {
            let object = to_json(charge);
            self.emit(ctx, type_, object, previous);
        }
    }
}

/// Formats money as Stripe's messages do: `$8.01`, `£54.45`, `¥500` (whole units for
/// zero-decimal currencies).
pub fn format_money(amount: i64, currency: &str) -> String {
    let symbol = match currency {
        "usd" | "cad" | "aud" | "nzd" | "sgd" | "hkd" | "mxn" => "$",
        "eur" => "€",
        "gbp" => "£",
        "jpy" => "¥",
        "inr" => "₹",
        _ => "",
    };
    if crate::cards::zero_decimal(currency) {
        format!("{symbol}{amount}")
    } else {
        format!("{symbol}{}.{:02}", amount / 100, (amount % 100).abs())
    }
}

/// Money with the currency code after it, as in `Amount must be at least $0.50 usd`.
pub fn format_amount(amount: i64, currency: &str) -> String {
    format!("{} {currency}", format_money(amount, currency))
}
