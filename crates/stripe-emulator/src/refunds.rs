//! Refunds (https://docs.stripe.com/api/refunds): full or partial, never more than what the
//! charge captured and has not yet refunded.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ids;
use crate::objects::Refund;
use crate::params::Params;
use crate::store::{Ctx, Store, format_money, to_json};

const CREATE_PARAMS: &[&str] = &[
    "payment_intent",
    "charge",
    "amount",
    "reason",
    "metadata",
    "expand",
    "instructions_email",
    "refund_application_fee",
    "reverse_transfer",
];

impl Store {
    /// `POST /v1/refunds`.
    pub fn create_refund(&mut self, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
        params.only(CREATE_PARAMS)?;
        let charge_id = self.refund_target(params)?;
        let charge = self.charge(&charge_id)?;
        if !charge.captured {
            return Err(ApiError::invalid(
                "charge_not_refundable",
                format!("Charge {charge_id} has not been captured: cancel its PaymentIntent instead."),
            ));
        }
        if self.disputes.values().any(|d| d.charge == charge_id && !matches!(d.status, "won" | "lost")) {
            return Err(ApiError::invalid(
                "charge_disputed",
                format!("Charge {charge_id} has been charged back; cannot issue a refund."),
            ));
        }
        let refundable = charge.refundable();
        if refundable == 0 {
            return Err(ApiError::invalid(
                "charge_already_refunded",
                format!("Charge {charge_id} has already been refunded."),
            ));
        }
        let amount = params.int("amount")?.unwrap_or(refundable);
        if amount < 1 {
            return Err(ApiError::invalid("parameter_invalid_integer", "Invalid positive integer")
                .with_param("amount"));
        }
        if amount > refundable {
            let message = if charge.amount_refunded == 0 {
                format!(
                    "Refund amount ({}) is greater than charge amount ({})",
                    format_money(amount, &charge.currency),
                    format_money(refundable, &charge.currency)
                )
            } else {
                format!(
                    "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                    format_money(amount, &charge.currency),
                    format_money(refundable, &charge.currency)
                )
            };
            return Err(ApiError::invalid("amount_too_large", message).with_param("amount"));
        }
        let reason = params.str("reason")?;
        if let Some(r) = &reason
            && !["duplicate", "fraudulent", "requested_by_customer"].contains(&r.as_str())
        {
            return Err(ApiError::invalid_uncoded(
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            )
            .with_param("reason"));
        }
        let mut metadata = std::collections::BTreeMap::new();
        if let Some(change) = params.metadata()? {
            change.apply(&mut metadata);
        }
        let refund = Refund {
            id: ids::new("re"),
            object: "refund",
            amount,
            balance_transaction: Some(ids::new("txn")),
            charge: charge_id.clone(),
            created: ctx.now,
            currency: charge.currency.clone(),
            description: None,
            metadata,
            payment_intent: charge.payment_intent.clone(),
            reason,
            receipt_number: None,
            status: "succeeded",
        };
        let previous = json!({"amount_refunded": charge.amount_refunded, "refunded": charge.refunded});
        if let Some(charge) = self.charges.get_mut(&charge_id) {
            charge.amount_refunded += amount;
            charge.refunded = charge.amount_refunded >= charge.amount;
        }
        let body = to_json(&refund);
        self.refunds.insert(refund.id.clone(), refund);
        self.emit(ctx, "refund.created", body.clone(), None);
        self.emit_charge(ctx, "charge.refunded", &charge_id, Some(previous));
        Ok(body)
    }

    /// The charge a refund request is about: `charge`, or the PaymentIntent's captured charge.
    fn refund_target(&self, params: &Params) -> Result<String, ApiError> {
        match (params.non_empty("charge")?, params.non_empty("payment_intent")?) {
            (None, None) => Err(ApiError::invalid(
                "parameter_missing",
                "One of the following params should be provided for this request: payment_intent or charge.",
            )),
            (Some(charge), pi) => {
                let c = self.charges.get(&charge).ok_or_else(|| bad_ref("charge", &charge))?;
                if pi.is_some_and(|pi| pi != c.payment_intent) {
                    return Err(ApiError::invalid_uncoded(format!(
                        "The charge {charge} does not belong to the given PaymentIntent."
                    ))
                    .with_param("payment_intent"));
                }
                Ok(charge)
            }
            (None, Some(pi_id)) => {
                let pi = self.payment_intents.get(&pi_id).ok_or_else(|| bad_ref("payment_intent", &pi_id))?;
                let charge =
                    pi.latest_charge.as_ref().and_then(|c| self.charges.get(c)).filter(|c| c.captured);
                let Some(charge) = charge else {
                    return Err(ApiError::invalid(
                        "charge_not_refundable",
                        format!("This PaymentIntent ({pi_id}) does not have a successful charge to refund."),
                    )
                    .with_param("payment_intent"));
                };
                Ok(charge.id.clone())
            }
        }
    }

    /// `GET /v1/refunds/{id}`.
    pub fn retrieve_refund(&self, id: &str, params: &Params) -> Result<Value, ApiError> {
        params.only(&["expand"])?;
        Ok(to_json(self.refund(id)?))
    }
}

/// A parameter naming an object that does not exist: 400 `resource_missing`.
fn bad_ref(what: &str, id: &str) -> ApiError {
    let mut e = ApiError::no_such(what, id, what);
    e.status = actix_web::http::StatusCode::BAD_REQUEST;
    e
}
