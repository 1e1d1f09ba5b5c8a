//! Test controls (the control API's `/_emulator/payment_intents/{id}/authenticate` and
//! `/settle`): the customer completes or fails 3-D Secure, a `processing` payment settles.

use serde_json::{Value, json};

use super::checks::unexpected_state;
use crate::cards;
use crate::error::ApiError;
use crate::objects::PiStatus;
use crate::store::{Ctx, Store, to_json};

impl Store {
    /// Emulator control: the customer completed (`true`) or failed 3-D Secure.
    pub fn authenticate(&mut self, ctx: &Ctx, id: &str, completed: bool) -> Result<Value, ApiError> {
        let pi = self.pi(id)?;
        if pi.status != PiStatus::RequiresAction {
            return Err(unexpected_state(pi, "authenticate", "authenticated", "requires_action"));
        }
        let method = pi.payment_method.as_deref().and_then(cards::lookup);
        if let (true, Some(method)) = (completed, method) {
            self.authorize(ctx, id, &method);
        } else {
            let pi = self.pi_mut(id)?;
            pi.status = PiStatus::RequiresPaymentMethod;
            pi.next_action = None;
            pi.payment_method = None;
            pi.last_payment_error = Some(json!({
                "type": "invalid_request_error",
                "code": "payment_intent_authentication_failure",
                "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
                "message": "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
            }));
            self.emit_pi(ctx, "payment_intent.payment_failed", id);
        }
        Ok(to_json(self.pi(id)?))
    }

    /// Emulator control: an asynchronous payment (`processing`) settles or fails.
    pub fn settle(&mut self, ctx: &Ctx, id: &str, succeeded: Option<bool>) -> Result<Value, ApiError> {
        let pi = self.pi(id)?;
        if pi.status != PiStatus::Processing {
            return Err(unexpected_state(pi, "settle", "settled", "processing"));
        }
        let succeeded = succeeded.or(pi.settles).unwrap_or(true);
        let charge_id = pi.latest_charge.clone().unwrap_or_default();
        let amount = pi.amount;
        let pi = self.pi_mut(id)?;
        pi.settles = None;
        if succeeded {
            pi.status = PiStatus::Succeeded;
            pi.amount_received = amount;
            if let Some(charge) = self.charges.get_mut(&charge_id) {
                charge.status = "succeeded";
                charge.paid = true;
                charge.captured = true;
                charge.amount_captured = amount;
            }
            self.emit_charge(ctx, "charge.succeeded", &charge_id, None);
            self.emit_pi(ctx, "payment_intent.succeeded", id);
        } else {
            pi.status = PiStatus::RequiresPaymentMethod;
            pi.payment_method = None;
            pi.last_payment_error = Some(json!({
                "type": "card_error",
                "code": "insufficient_funds",
                "decline_code": "insufficient_funds",
                "charge": charge_id,
                "message": "The customer's account has insufficient funds to cover this payment.",
            }));
            if let Some(charge) = self.charges.get_mut(&charge_id) {
                charge.status = "failed";
                charge.failure_code = Some("insufficient_funds".into());
                charge.failure_message =
                    Some("The customer's account has insufficient funds to cover this payment.".into());
            }
            self.emit_charge(ctx, "charge.failed", &charge_id, None);
            self.emit_pi(ctx, "payment_intent.payment_failed", id);
        }
        Ok(to_json(self.pi(id)?))
    }
}
