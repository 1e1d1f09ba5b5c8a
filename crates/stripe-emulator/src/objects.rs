//! The Stripe objects the emulator keeps, serialised with the fields Stripe's API reference
//! lists (nulls included, as Stripe sends them), so async-stripe and other clients parse them.

// Field names and meanings are Stripe's own (see its API reference); documenting each again
// here would only copy it.
#![allow(missing_docs)]

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A PaymentIntent's lifecycle state (Stripe's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiStatus {
    /// No usable payment method yet (also after a failed attempt).
    RequiresPaymentMethod,
    /// Has a payment method, waits for confirm.
    RequiresConfirmation,
    /// Waits for the customer (3-D Secure).
    RequiresAction,
    /// Asynchronous payment method in flight.
    Processing,
    /// Authorised, waits for capture (`capture_method=manual`).
    RequiresCapture,
    /// Canceled.
    Canceled,
    /// Paid.
    Succeeded,
}

impl PiStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PiStatus::RequiresPaymentMethod => "requires_payment_method",
            PiStatus::RequiresConfirmation => "requires_confirmation",
            PiStatus::RequiresAction => "requires_action",
            PiStatus::Processing => "processing",
            PiStatus::RequiresCapture => "requires_capture",
            PiStatus::Canceled => "canceled",
            PiStatus::Succeeded => "succeeded",
        }
    }
}

/// A PaymentIntent.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentIntent {
    pub id: String,
    pub object: &'static str,
    pub allowed_payment_method_types: Option<Vec<String>>,
    pub amount: i64,
    pub amount_capturable: i64,
    pub amount_details: Value,
    pub amount_received: i64,
    pub application: Option<String>,
    pub application_fee_amount: Option<i64>,
    pub automatic_payment_methods: Option<Value>,
    pub canceled_at: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub capture_method: String,
    pub client_secret: String,
    pub confirmation_method: String,
    pub created: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub last_payment_error: Option<Value>,
    pub latest_charge: Option<String>,
    pub livemode: bool,
    pub metadata: BTreeMap<String, String>,
    pub next_action: Option<Value>,
    pub on_behalf_of: Option<String>,
    pub payment_method: Option<String>,
    pub payment_method_options: Value,
    pub payment_method_types: Vec<String>,
    pub processing: Option<Value>,
    pub receipt_email: Option<String>,
    pub review: Option<String>,
    pub setup_future_usage: Option<String>,
    pub shipping: Option<Value>,
    pub statement_descriptor: Option<String>,
    pub statement_descriptor_suffix: Option<String>,
    pub status: PiStatus,
    pub transfer_data: Option<Value>,
    pub transfer_group: Option<String>,
    /// Emulator bookkeeping (not serialised): the return URL given at confirm, for `next_action`.
    #[serde(skip)]
    pub return_url: Option<String>,
    /// Emulator bookkeeping: whether a `processing` payment will settle successfully.
    #[serde(skip)]
    pub settles: Option<bool>,
}

/// A Charge: one attempt to move money for a PaymentIntent.
#[allow(clippy::struct_excessive_bools)] // Stripe's shape
#[derive(Debug, Clone, Serialize)]
pub struct Charge {
    pub id: String,
    pub object: &'static str,
    pub amount: i64,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub balance_transaction: Option<String>,
    pub billing_details: Value,
    pub calculated_statement_descriptor: Option<String>,
    pub captured: bool,
    pub created: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub disputed: bool,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub fraud_details: Value,
    pub livemode: bool,
    pub metadata: BTreeMap<String, String>,
    pub outcome: Option<Value>,
    pub paid: bool,
    pub payment_intent: String,
    pub payment_method: Option<String>,
    pub payment_method_details: Value,
    pub receipt_email: Option<String>,
    pub refunded: bool,
    pub status: &'static str,
}

impl Charge {
    /// What may still be refunded. A partial capture shows the released rest as refunded
    /// (Stripe's accounting), so what is left is `amount - amount_refunded`, at most what
    /// was captured.
    pub fn refundable(&self) -> i64 {
        (self.amount - self.amount_refunded).min(self.amount_captured).max(0)
    }
}

/// A Refund.
#[derive(Debug, Clone, Serialize)]
pub struct Refund {
    pub id: String,
    pub object: &'static str,
    pub amount: i64,
    pub balance_transaction: Option<String>,
    pub charge: String,
    pub created: i64,
    pub currency: String,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub payment_intent: String,
    pub reason: Option<String>,
    pub receipt_number: Option<String>,
    pub status: &'static str,
}

/// A Dispute (chargeback) on a charge.
#[derive(Debug, Clone, Serialize)]
pub struct Dispute {
    pub id: String,
    pub object: &'static str,
    pub amount: i64,
    pub balance_transactions: Vec<Value>,
    pub charge: String,
    pub created: i64,
    pub currency: String,
    pub enhanced_eligibility_types: Vec<String>,
    pub evidence: Value,
    pub evidence_details: Value,
    pub is_charge_refundable: bool,
    pub livemode: bool,
    pub metadata: BTreeMap<String, String>,
    pub payment_intent: String,
    pub reason: String,
    pub status: &'static str,
}

/// An Event, as stored and as delivered to webhook endpoints.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: String,
    pub object: &'static str,
    pub api_version: &'static str,
    pub created: i64,
    pub data: EventData,
    pub livemode: bool,
    pub pending_webhooks: usize,
    pub request: EventRequest,
    #[serde(rename = "type")]
    pub type_: String,
}

/// `data` of an Event.
#[derive(Debug, Clone, Serialize)]
pub struct EventData {
    pub object: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<Value>,
}

/// `request` of an Event: which API request caused it (both null for automatic events).
#[derive(Debug, Clone, Serialize)]
pub struct EventRequest {
    pub id: Option<String>,
    pub idempotency_key: Option<String>,
}
