//! `trigger`: make the emulator send an event of a given type, like `stripe trigger`.
//! Without a PaymentIntent it runs the real flow that causes the event (creating the objects,
//! so every related event is sent too, as the Stripe CLI does); with one it sends the event
//! again about that PaymentIntent's current state, without changing it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::params::Params;
use crate::store::{Ctx, Store, to_json};

/// Event types `trigger` can produce from scratch.
pub const SUPPORTED: &[&str] = &[
    "payment_intent.created",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "payment_intent.processing",
    "payment_intent.amount_capturable_updated",
    "charge.succeeded",
    "charge.failed",
    "charge.pending",
    "charge.captured",
    "charge.refunded",
    "refund.created",
    "charge.dispute.created",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.closed",
];

/// What to trigger.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TriggerRequest {
    /// The event type, e.g. `payment_intent.succeeded`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Send the event about this existing PaymentIntent instead of creating one.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// Amount of the PaymentIntent created (default 2000).
    #[serde(default)]
    pub amount: Option<i64>,
    /// Currency of the PaymentIntent created (default `usd`).
    #[serde(default)]
    pub currency: Option<String>,
    /// Metadata of the PaymentIntent created (e.g. `order_id`).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Amount refunded for `charge.refunded` / `refund.created` (default: all).
    #[serde(default)]
    pub refund_amount: Option<i64>,
}

impl Store {
    /// Runs a trigger; returns the PaymentIntent involved and the ids of the events sent.
    pub fn trigger(&mut self, ctx: &Ctx, req: &TriggerRequest) -> Result<(String, Vec<String>), ApiError> {
        let before = self.events().len();
        let pi = match &req.payment_intent {
            Some(pi) => {
                self.resend_about(ctx, &req.type_, pi)?;
                pi.clone()
            }
            None => self.run_flow(ctx, req)?,
        };
        let ids = self.events()[before..].iter().map(|e| e.id.clone()).collect();
        Ok((pi, ids))
    }

    /// Emits `type_` with the current state of the PaymentIntent's object of that kind.
    fn resend_about(&mut self, ctx: &Ctx, type_: &str, pi_id: &str) -> Result<(), ApiError> {
        let pi = self.pi(pi_id)?;
        let object = if type_.starts_with("payment_intent.") {
            to_json(pi)
        } else if type_.starts_with("charge.dispute.") {
            let dispute = self
                .dispute_for(pi_id)
                .ok_or_else(|| ApiError::invalid_uncoded(format!("PaymentIntent {pi_id} has no dispute")))?;
            to_json(dispute)
        } else if type_.starts_with("charge.") || type_.starts_with("refund.") {
            let charge_id = pi
                .latest_charge
                .clone()
                .ok_or_else(|| ApiError::invalid_uncoded(format!("PaymentIntent {pi_id} has no charge")))?;
            if type_.starts_with("refund.") {
                let refund = self
                    .refunds
                    .values()
                    .filter(|r| r.charge == charge_id)
                    .max_by_key(|r| r.created)
                    .ok_or_else(|| {
                        ApiError::invalid_uncoded(format!("PaymentIntent {pi_id} has no refund"))
                    })?;
                to_json(refund)
            } else {
                to_json(self.charge(&charge_id)?)
            }
        } else {
            return Err(ApiError::invalid_uncoded(format!("Cannot trigger {type_} about a PaymentIntent")));
        };
        self.emit(ctx, type_, object, None);
        Ok(())
    }

    /// Creates a PaymentIntent and drives it through the flow that causes `req.type_`.
    fn run_flow(&mut self, ctx: &Ctx, req: &TriggerRequest) -> Result<String, ApiError> {
        let t = req.type_.as_str();
        if !SUPPORTED.contains(&t) {
            return Err(ApiError::invalid_uncoded(format!(
                "Unsupported event type for trigger: {t}. Supported: {}",
                SUPPORTED.join(", ")
            )));
        }
        let method = match t {
            "payment_intent.payment_failed" | "charge.failed" => Some("pm_card_chargeDeclined"),
            "payment_intent.requires_action" => Some("pm_card_threeDSecure2Required"),
            "payment_intent.processing" | "charge.pending" => Some("pm_usBankAccount_success"),
            t if t.starts_with("charge.dispute.") => Some("pm_card_createDispute"),
            "payment_intent.created" | "payment_intent.canceled" => None,
            _ => Some("pm_card_visa"),
        };
        let manual = matches!(t, "payment_intent.amount_capturable_updated" | "charge.captured");
        let mut params = Map::new();
        params.insert("amount".into(), json!(req.amount.unwrap_or(2000).to_string()));
        params.insert("currency".into(), json!(req.currency.clone().unwrap_or_else(|| "usd".into())));
        if !req.metadata.is_empty() {
            params.insert("metadata".into(), to_json(&req.metadata));
        }
        if let Some(pm) = method {
            params.insert("payment_method".into(), json!(pm));
            params.insert("confirm".into(), json!("true"));
        }
        if manual {
            params.insert("capture_method".into(), json!("manual"));
        }
        let pi = match self.create_payment_intent(ctx, &Params(params)) {
            Ok(v) => v.get("id").and_then(Value::as_str).map(str::to_owned),
            // A decline answers 402 but the PaymentIntent exists: that is the point.
            Err(e) if e.kind == "card_error" => e
                .extra
                .get("payment_intent")
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            Err(e) => return Err(e),
        };
        let pi = pi.ok_or_else(|| ApiError::invalid_uncoded("trigger could not create a PaymentIntent"))?;
        match t {
            "payment_intent.canceled" => {
                self.cancel_payment_intent(ctx, &pi, &Params::default())?;
            }
            "charge.captured" => {
                self.capture_payment_intent(ctx, &pi, &Params::default())?;
            }
            "charge.refunded" | "refund.created" => {
                let mut p = Map::new();
                p.insert("payment_intent".into(), json!(pi));
                if let Some(a) = req.refund_amount {
                    p.insert("amount".into(), json!(a.to_string()));
                }
                self.create_refund(ctx, &Params(p))?;
            }
            "charge.dispute.closed" => {
                let dispute = self.dispute_for(&pi).map(|d| d.id.clone()).unwrap_or_default();
                self.close_dispute(ctx, &dispute, false)?;
            }
            _ => {}
        }
        Ok(pi)
    }
}
