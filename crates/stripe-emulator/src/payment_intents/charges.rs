//! The charge a payment attempt makes: an authorisation (captured at once or held), or a
//! decline with Stripe's 402 `card_error`.

use serde_json::{Value, json};

use crate::cards::TestMethod;
use crate::error::ApiError;
use crate::ids;
use crate::objects::{Charge, PiStatus};
use crate::store::{Ctx, Store, to_json};

impl Store {
    /// A successful authorisation: captured at once, or held for `capture_method=manual`.
    /// Returns the charge id.
    pub(super) fn authorize(&mut self, ctx: &Ctx, id: &str, method: &TestMethod) -> String {
        let charge_id = self.new_charge(ctx, id, method, "succeeded");
        let Some(pi) = self.payment_intents.get_mut(id) else { return charge_id };
        pi.latest_charge = Some(charge_id.clone());
        pi.next_action = None;
        let manual = pi.capture_method == "manual";
        if manual {
            pi.status = PiStatus::RequiresCapture;
            pi.amount_capturable = pi.amount;
        } else {
            pi.status = PiStatus::Succeeded;
            pi.amount_received = pi.amount;
        }
        if let Some(charge) = self.charges.get_mut(&charge_id) {
            charge.paid = true;
            charge.captured = !manual;
            charge.amount_captured = if manual { 0 } else { charge.amount };
        }
        self.emit_charge(ctx, "charge.succeeded", &charge_id, None);
        if manual {
            self.emit_pi(ctx, "payment_intent.amount_capturable_updated", id);
        } else {
            self.emit_pi(ctx, "payment_intent.succeeded", id);
        }
        charge_id
    }

    /// A declined attempt: failed charge, PaymentIntent back to `requires_payment_method`,
    /// and the 402 error Stripe answers with.
    pub(super) fn decline(
        &mut self,
        ctx: &Ctx,
        id: &str,
        method: &TestMethod,
        code: &'static str,
        decline_code: &str,
        message: &str,
    ) -> ApiError {
        let charge_id = self.new_charge(ctx, id, method, "failed");
        if let Some(charge) = self.charges.get_mut(&charge_id) {
            charge.failure_code = Some(code.into());
            charge.failure_message = Some(message.to_owned());
            charge.outcome = Some(json!({
                "network_status": "declined_by_network", "reason": decline_code, "risk_level": "normal",
                "seller_message": "The bank did not return any further details with this decline.", "type": "issuer_declined",
            }));
        }
        let error = json!({
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "doc_url": format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")),
            "message": message,
            "charge": charge_id,
            "payment_method_type": method.kind,
        });
        if let Some(pi) = self.payment_intents.get_mut(id) {
            pi.latest_charge = Some(charge_id.clone());
            pi.status = PiStatus::RequiresPaymentMethod;
            pi.payment_method = None;
            pi.last_payment_error = Some(error);
        }
        self.emit_charge(ctx, "charge.failed", &charge_id, None);
        self.emit_pi(ctx, "payment_intent.payment_failed", id);
        let pi = self.payment_intents.get(id).map_or(Value::Null, to_json);
        ApiError::card(code, message)
            .with("decline_code", json!(decline_code))
            .with("charge", json!(charge_id))
            .with("payment_intent", pi)
    }

    /// A new charge for the PaymentIntent, in `status`.
    pub(super) fn new_charge(
        &mut self,
        ctx: &Ctx,
        pi_id: &str,
        method: &TestMethod,
        status: &'static str,
    ) -> String {
        let id = ids::new("ch");
        let Some(pi) = self.payment_intents.get(pi_id) else { return id };
        let charge = Charge {
            id: id.clone(),
            object: "charge",
            amount: pi.amount,
            amount_captured: 0,
            amount_refunded: 0,
            balance_transaction: (status == "succeeded").then(|| ids::new("txn")),
            billing_details: json!({"address": null, "email": null, "name": null, "phone": null}),
            calculated_statement_descriptor: Some("EMULATOR".into()),
            captured: false,
            created: ctx.now,
            currency: pi.currency.clone(),
            customer: pi.customer.clone(),
            description: pi.description.clone(),
            disputed: false,
            failure_code: None,
            failure_message: None,
            fraud_details: json!({}),
            livemode: false,
            metadata: pi.metadata.clone(),
            outcome: (status == "succeeded").then(|| {
                json!({"network_status": "approved_by_network", "reason": null, "risk_level": "normal",
                       "seller_message": "Payment complete.", "type": "authorized"})
            }),
            paid: false,
            payment_intent: pi_id.to_owned(),
            payment_method: pi.payment_method.clone(),
            receipt_email: pi.receipt_email.clone(),
            refunded: false,
            status,
            payment_method_details: json!({"type": method.kind}),
        };
        self.charges.insert(id.clone(), charge);
        id
    }
}
