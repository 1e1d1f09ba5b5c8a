//! `POST /v1/payment_intents/{id}/confirm` and `/capture`: a payment attempt and what the
//! test payment method makes of it, and capturing a `requires_capture` authorisation.

use serde_json::{Value, json};

use super::checks::{awaiting_payment, known_method, one_of, state_error, unexpected_state};
use crate::cards::{self, Behaviour};
use crate::error::ApiError;
use crate::ids;
use crate::objects::{PaymentIntent, PiStatus};
use crate::params::Params;
use crate::store::{Ctx, Store, to_json};

/// Parameters accepted by confirm (also the confirm-time part of a create with `confirm=true`).
pub(super) const CONFIRM_PARAMS: &[&str] = &[
    "payment_method",
    "payment_method_data",
    "return_url",
    "expand",
    "off_session",
    "error_on_requires_action",
    "use_stripe_sdk",
    "mandate_data",
    "payment_method_options",
    "payment_method_types",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "capture_method",
];

impl Store {
    /// `POST /v1/payment_intents/{id}/confirm`. A decline answers 402 with the PaymentIntent
    /// in the error, as Stripe does, after its state and events have changed.
    pub fn confirm_payment_intent(
        &mut self,
        ctx: &Ctx,
        id: &str,
        params: &Params,
    ) -> Result<Value, ApiError> {
        params.only(CONFIRM_PARAMS)?;
        let pi = self.pi(id)?;
        if !awaiting_payment(pi.status) {
            return Err(unexpected_state(
                pi,
                "confirm",
                "confirmed",
                "requires_confirmation, requires_payment_method, requires_action",
            ));
        }
        let from_card = method_from_data(params)?;
        if from_card.is_some() && params.has("payment_method") {
            return Err(ApiError::invalid_uncoded(
                "You cannot provide both payment_method and payment_method_data.",
            )
            .with_param("payment_method_data"));
        }
        let Some(pm) =
            params.non_empty("payment_method")?.or(from_card).or_else(|| pi.payment_method.clone())
        else {
            return Err(state_error(
                pi,
                "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment method and then confirm it again.".to_owned(),
            ));
        };
        let method = known_method(&pm)?;
        let return_url = params.str("return_url")?;
        // Off-session, or when asked, a card that needs the customer fails instead of waiting.
        let no_customer = params.bool("off_session")?.unwrap_or(false)
            || params.bool("error_on_requires_action")?.unwrap_or(false);
        let capture_method = one_of(params, "capture_method", &["automatic", "automatic_async", "manual"])?;

        let pi = self.pi_mut(id)?;
        pi.payment_method = Some(pm);
        pi.last_payment_error = None;
        pi.next_action = None;
        if return_url.is_some() {
            pi.return_url = return_url;
        }
        if let Some(c) = capture_method {
            pi.capture_method = c;
        }
        match method.behaviour {
            Behaviour::Succeeds => {
                self.authorize(ctx, id, &method);
                Ok(to_json(self.pi(id)?))
            }
            Behaviour::SucceedsThenDisputed => {
                let charge = self.authorize(ctx, id, &method);
                // Stripe opens the dispute shortly after the charge; here it follows at once.
                if self.charges.get(&charge).is_some_and(|c| c.captured) {
                    self.open_dispute(ctx, &charge);
                }
                Ok(to_json(self.pi(id)?))
            }
            Behaviour::Declined { decline_code, message } => {
                Err(self.decline(ctx, id, &method, "card_declined", decline_code, message))
            }
            Behaviour::RequiresAuthentication if no_customer => Err(self.decline(
                ctx,
                id,
                &method,
                "authentication_required",
                "authentication_required",
                "Your card was declined. This transaction requires authentication.",
            )),
            Behaviour::RequiresAuthentication => {
                let pi = self.pi_mut(id)?;
                pi.status = PiStatus::RequiresAction;
                pi.next_action = Some(next_action(pi, ctx.origin.as_deref()));
                self.emit_pi(ctx, "payment_intent.requires_action", id);
                Ok(to_json(self.pi(id)?))
            }
            Behaviour::Processing { settles } => {
                let charge = self.new_charge(ctx, id, &method, "pending");
                let pi = self.pi_mut(id)?;
                pi.status = PiStatus::Processing;
                pi.settles = Some(settles);
                pi.latest_charge = Some(charge.clone());
                self.emit_charge(ctx, "charge.pending", &charge, None);
                self.emit_pi(ctx, "payment_intent.processing", id);
                Ok(to_json(self.pi(id)?))
            }
        }
    }

    /// `POST /v1/payment_intents/{id}/capture`.
    pub fn capture_payment_intent(
        &mut self,
        ctx: &Ctx,
        id: &str,
        params: &Params,
    ) -> Result<Value, ApiError> {
        params.only(&[
            "amount_to_capture",
            "expand",
            "metadata",
            "statement_descriptor",
            "statement_descriptor_suffix",
            "final_capture",
        ])?;
        let pi = self.pi(id)?;
        if pi.status != PiStatus::RequiresCapture {
            return Err(state_error(
                pi,
                format!(
                    "This PaymentIntent could not be captured because it has a status of {}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                    pi.status.as_str()
                ),
            ));
        }
        let capturable = pi.amount_capturable;
        let amount = params.int("amount_to_capture")?.unwrap_or(capturable);
        if amount < 1 {
            return Err(ApiError::invalid("parameter_invalid_integer", "Invalid positive integer")
                .with_param("amount_to_capture"));
        }
        if amount > capturable {
            return Err(ApiError::invalid(
                "amount_too_large",
                format!(
                    "The amount_to_capture ({amount}) is greater than the amount_capturable ({capturable})."
                ),
            )
            .with_param("amount_to_capture"));
        }
        let metadata = params.metadata()?;
        let charge_id = pi.latest_charge.clone().unwrap_or_default();
        let pi = self.pi_mut(id)?;
        if let Some(change) = metadata {
            change.apply(&mut pi.metadata);
        }
        pi.amount_received = amount;
        pi.amount_capturable = 0;
        pi.status = PiStatus::Succeeded;
        if let Some(charge) = self.charges.get_mut(&charge_id) {
            charge.captured = true;
            charge.amount_captured = amount;
            // The part not captured is released, which Stripe shows as refunded.
            charge.amount_refunded = charge.amount - amount;
        }
        self.emit_charge(ctx, "charge.captured", &charge_id, None);
        self.emit_pi(ctx, "payment_intent.succeeded", id);
        Ok(to_json(self.pi(id)?))
    }
}

/// What the customer must do for 3-D Secure: a redirect when a `return_url` was given,
/// otherwise Stripe.js's `use_stripe_sdk`. The page is the emulator's own challenge
/// ([`crate::hosted`]) when the caller reached it over HTTP, else Stripe's URL shape.
fn next_action(pi: &PaymentIntent, origin: Option<&str>) -> Value {
    let url = origin.map_or_else(
        || format!("https://hooks.stripe.com/3d_secure_2/hosted?payment_intent={}", pi.id),
        |origin| crate::hosted::challenge_url(origin, pi),
    );
    match &pi.return_url {
        Some(return_url) => {
            json!({"type": "redirect_to_url", "redirect_to_url": {"return_url": return_url, "url": url}})
        }
        None => {
            json!({"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": url, "source": ids::new("src")}})
        }
    }
}

/// The test payment method behind `payment_method_data` (Stripe.js sends the card's details
/// this way): `type=card` and a test card number; Stripe's card errors otherwise.
fn method_from_data(params: &Params) -> Result<Option<String>, ApiError> {
    let Some(data) = params.0.get("payment_method_data") else { return Ok(None) };
    if data.get("type").and_then(Value::as_str) != Some("card") {
        return Err(ApiError::invalid_uncoded("payment_method_data[type] must be card.")
            .with_param("payment_method_data[type]"));
    }
    let number: String = data
        .get("card")
        .and_then(|c| c.get("number"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if number.is_empty() {
        return Err(ApiError::missing("payment_method_data[card][number]"));
    }
    if number.len() < 12 || number.len() > 19 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::card("incorrect_number", "Your card number is incorrect.")
            .with_param("payment_method_data[card][number]"));
    }
    match cards::method_for_number(&number) {
        Some(pm) => Ok(Some(pm.to_owned())),
        None => Err(ApiError::card(
            "card_declined",
            "Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.",
        )
        .with("decline_code", json!("live_mode_test_card"))),
    }
}
