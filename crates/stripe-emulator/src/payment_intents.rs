//! PaymentIntents: create, retrieve, update, confirm, capture, cancel, and the transitions
//! the test payment methods cause (https://docs.stripe.com/payments/paymentintents/lifecycle).

use serde_json::{Value, json};

use crate::cards::{self, Behaviour, TestMethod};
use crate::error::ApiError;
use crate::ids;
use crate::objects::{Charge, PaymentIntent, PiStatus};
use crate::params::Params;
use crate::store::{Ctx, Store, format_amount, to_json};

/// Parameters accepted by create (those the emulator does not act on are stored or ignored,
/// as long as Stripe knows them).
const CREATE_PARAMS: &[&str] = &[
    "amount",
    "currency",
    "metadata",
    "payment_method",
    "payment_method_types",
    "allowed_payment_method_types",
    "excluded_payment_method_types",
    "confirm",
    "capture_method",
    "confirmation_method",
    "description",
    "customer",
    "receipt_email",
    "automatic_payment_methods",
    "return_url",
    "setup_future_usage",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "expand",
    "off_session",
    "error_on_requires_action",
    "use_stripe_sdk",
    "payment_method_options",
    "shipping",
    "transfer_group",
    "mandate_data",
];

const CONFIRM_PARAMS: &[&str] = &[
    "payment_method",
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

const UPDATE_PARAMS: &[&str] = &[
    "amount",
    "currency",
    "metadata",
    "description",
    "payment_method",
    "payment_method_types",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "capture_method",
    "customer",
    "expand",
    "transfer_group",
    "payment_method_options",
];

/// Update parameters allowed whatever the status (Stripe lets these change after payment).
const ALWAYS_UPDATABLE: &[&str] = &["metadata", "description", "receipt_email", "shipping", "expand"];

/// Checks amount and currency as Stripe does: currency known, amount at least the
/// currency's minimum and at most eight digits.
fn check_amount(amount: i64, currency: &str) -> Result<(), ApiError> {
    let Some(minimum) = cards::minimum_amount(currency) else {
        return Err(ApiError::invalid_uncoded(format!(
            "Invalid currency: {currency}. Stripe currently supports these currencies: usd, eur, gbp, cad, aud, nzd, sgd, chf, brl, inr, jpy, dkk, nok, sek, hkd, pln, mxn"
        ))
        .with_param("currency"));
    };
    if amount < 1 {
        return Err(ApiError::invalid(
            "parameter_invalid_integer",
            "This value must be greater than or equal to 1.",
        )
        .with_param("amount"));
    }
    if amount < minimum {
        return Err(ApiError::invalid(
            "amount_too_small",
            format!("Amount must be at least {}", format_amount(minimum, currency)),
        )
        .with_param("amount"));
    }
    if amount > cards::MAXIMUM_AMOUNT {
        return Err(ApiError::invalid(
            "amount_too_large",
            format!("Amount must be no more than {}", format_amount(cards::MAXIMUM_AMOUNT, currency)),
        )
        .with_param("amount"));
    }
    Ok(())
}

fn one_of(params: &Params, key: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match params.str(key)? {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(ApiError::invalid_uncoded(format!("Invalid {key}: must be one of {}", allowed.join(", ")))
                .with_param(key))
        }
        other => Ok(other),
    }
}

fn known_method(id: &str) -> Result<TestMethod, ApiError> {
    cards::lookup(id).ok_or_else(|| {
        let mut e = ApiError::no_such("PaymentMethod", id, "payment_method");
        e.status = actix_web::http::StatusCode::BAD_REQUEST;
        e
    })
}

fn unexpected_state(pi: &PaymentIntent, action: &str, done: &str, allowed: &str) -> ApiError {
    state_error(
        pi,
        format!(
            "You cannot {action} this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be {done}: {allowed}.",
            pi.status.as_str()
        ),
    )
}

/// 400 `payment_intent_unexpected_state`, carrying the PaymentIntent as Stripe does.
fn state_error(pi: &PaymentIntent, message: String) -> ApiError {
    ApiError::invalid("payment_intent_unexpected_state", message).with("payment_intent", to_json(pi))
}

impl Store {
    /// `POST /v1/payment_intents`.
    pub fn create_payment_intent(&mut self, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
        params.only(CREATE_PARAMS)?;
        let amount = params.int("amount")?.ok_or_else(|| ApiError::missing("amount"))?;
        let currency =
            params.non_empty("currency")?.ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
        check_amount(amount, &currency)?;
        let capture_method = one_of(params, "capture_method", &["automatic", "automatic_async", "manual"])?
            .unwrap_or_else(|| "automatic_async".to_owned());
        let confirmation_method = one_of(params, "confirmation_method", &["automatic", "manual"])?
            .unwrap_or_else(|| "automatic".to_owned());
        let payment_method = params.non_empty("payment_method")?;
        if let Some(pm) = &payment_method {
            known_method(pm)?;
        }
        // API versions from 2026 name the requested list `allowed_payment_method_types`; the
        // response's `payment_method_types` is what applies.
        let allowed_payment_method_types = params.str_list("allowed_payment_method_types")?;
        let payment_method_types = params
            .str_list("payment_method_types")?
            .or_else(|| allowed_payment_method_types.clone())
            .unwrap_or_else(|| vec!["card".to_owned()]);
        let mut metadata = std::collections::BTreeMap::new();
        if let Some(change) = params.metadata()? {
            change.apply(&mut metadata);
        }
        let confirm = params.bool("confirm")?.unwrap_or(false);
        let automatic_payment_methods = params
            .0
            .get("automatic_payment_methods")
            .map(|v| json!({"allow_redirects": "always", "enabled": v.get("enabled").and_then(Value::as_str) == Some("true")}));

        let id = ids::new("pi");
        let pi = PaymentIntent {
            client_secret: ids::client_secret(&id),
            id: id.clone(),
            object: "payment_intent",
            allowed_payment_method_types,
            amount,
            amount_capturable: 0,
            amount_details: json!({"tip": {}}),
            amount_received: 0,
            application: None,
            application_fee_amount: None,
            automatic_payment_methods,
            canceled_at: None,
            cancellation_reason: None,
            capture_method,
            confirmation_method,
            created: ctx.now,
            currency,
            customer: params.str("customer")?,
            description: params.str("description")?,
            last_payment_error: None,
            latest_charge: None,
            livemode: false,
            metadata,
            next_action: None,
            on_behalf_of: None,
            status: if payment_method.is_some() {
                PiStatus::RequiresConfirmation
            } else {
                PiStatus::RequiresPaymentMethod
            },
            payment_method,
            payment_method_options: json!({}),
            payment_method_types,
            processing: None,
            receipt_email: params.str("receipt_email")?,
            review: None,
            setup_future_usage: params.str("setup_future_usage")?,
            shipping: None,
            statement_descriptor: params.str("statement_descriptor")?,
            statement_descriptor_suffix: params.str("statement_descriptor_suffix")?,
            transfer_data: None,
            transfer_group: params.str("transfer_group")?,
            return_url: params.str("return_url")?,
            settles: None,
        };
        self.payment_intents.insert(id.clone(), pi);
        self.emit_pi(ctx, "payment_intent.created", &id);
        if confirm {
            // Only the confirm-time parameters apply to the confirmation.
            let confirm_params = Params(
                params
                    .0
                    .iter()
                    .filter(|(k, _)| CONFIRM_PARAMS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            );
            return self.confirm_payment_intent(ctx, &id, &confirm_params);
        }
        Ok(to_json(self.pi(&id)?))
    }

    /// `GET /v1/payment_intents/{id}`.
    pub fn retrieve_payment_intent(&self, id: &str, params: &Params) -> Result<Value, ApiError> {
        params.only(&["expand", "client_secret"])?;
        Ok(to_json(self.pi(id)?))
    }

    /// `POST /v1/payment_intents/{id}`.
    pub fn update_payment_intent(
        &mut self,
        _ctx: &Ctx,
        id: &str,
        params: &Params,
    ) -> Result<Value, ApiError> {
        params.only(UPDATE_PARAMS)?;
        let pi = self.pi(id)?;
        let open = matches!(
            pi.status,
            PiStatus::RequiresPaymentMethod | PiStatus::RequiresConfirmation | PiStatus::RequiresAction
        );
        if !open && params.0.keys().any(|k| !ALWAYS_UPDATABLE.contains(&k.as_str())) {
            return Err(unexpected_state(
                pi,
                "update",
                "updated",
                "requires_payment_method, requires_confirmation, requires_action",
            ));
        }
        let amount = params.int("amount")?.unwrap_or(pi.amount);
        let currency =
            params.non_empty("currency")?.map_or_else(|| pi.currency.clone(), |c| c.to_lowercase());
        check_amount(amount, &currency)?;
        let payment_method = params.non_empty("payment_method")?;
        if let Some(pm) = &payment_method {
            known_method(pm)?;
        }
        let capture_method = one_of(params, "capture_method", &["automatic", "automatic_async", "manual"])?;
        let metadata = params.metadata()?;
        let types = params.str_list("payment_method_types")?;
        let description = params.str("description")?;
        let receipt_email = params.str("receipt_email")?;
        let customer = params.str("customer")?;

        let pi = self.pi_mut(id)?;
        pi.amount = amount;
        pi.currency = currency;
        if let Some(change) = metadata {
            change.apply(&mut pi.metadata);
        }
        if let Some(pm) = payment_method {
            pi.payment_method = Some(pm);
            pi.next_action = None;
            pi.status = PiStatus::RequiresConfirmation;
        }
        if let Some(c) = capture_method {
            pi.capture_method = c;
        }
        if let Some(t) = types {
            pi.payment_method_types = t;
        }
        if params.has("description") {
            pi.description = description.filter(|d| !d.is_empty());
        }
        if params.has("receipt_email") {
            pi.receipt_email = receipt_email.filter(|d| !d.is_empty());
        }
        if params.has("customer") {
            pi.customer = customer.filter(|d| !d.is_empty());
        }
        // Stripe has no `payment_intent.updated` event: an update is silent.
        Ok(to_json(&*pi))
    }

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
        if !matches!(
            pi.status,
            PiStatus::RequiresPaymentMethod | PiStatus::RequiresConfirmation | PiStatus::RequiresAction
        ) {
            return Err(unexpected_state(
                pi,
                "confirm",
                "confirmed",
                "requires_confirmation, requires_payment_method, requires_action",
            ));
        }
        let Some(pm) = params.non_empty("payment_method")?.or_else(|| pi.payment_method.clone()) else {
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
                pi.next_action = Some(next_action(pi));
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

    /// `POST /v1/payment_intents/{id}/cancel`.
    pub fn cancel_payment_intent(&mut self, ctx: &Ctx, id: &str, params: &Params) -> Result<Value, ApiError> {
        params.only(&["cancellation_reason", "expand"])?;
        let reason = one_of(
            params,
            "cancellation_reason",
            &["duplicate", "fraudulent", "requested_by_customer", "abandoned"],
        )?;
        let pi = self.pi(id)?;
        if !matches!(
            pi.status,
            PiStatus::RequiresPaymentMethod
                | PiStatus::RequiresConfirmation
                | PiStatus::RequiresAction
                | PiStatus::RequiresCapture
        ) {
            return Err(unexpected_state(
                pi,
                "cancel",
                "canceled",
                "requires_payment_method, requires_capture, requires_confirmation, requires_action, processing",
            ));
        }
        let uncaptured = (pi.status == PiStatus::RequiresCapture).then(|| pi.latest_charge.clone()).flatten();
        let pi = self.pi_mut(id)?;
        pi.status = PiStatus::Canceled;
        pi.canceled_at = Some(ctx.now);
        pi.cancellation_reason = reason;
        pi.amount_capturable = 0;
        pi.next_action = None;
        if let Some(charge) = uncaptured.and_then(|c| self.charges.get_mut(&c)) {
            // Canceling releases the authorisation: the uncaptured charge shows as refunded.
            charge.amount_refunded = charge.amount;
            charge.refunded = true;
        }
        self.emit_pi(ctx, "payment_intent.canceled", id);
        Ok(to_json(self.pi(id)?))
    }

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

    /// A successful authorisation: captured at once, or held for `capture_method=manual`.
    /// Returns the charge id.
    fn authorize(&mut self, ctx: &Ctx, id: &str, method: &TestMethod) -> String {
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
    fn decline(
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
    fn new_charge(&mut self, ctx: &Ctx, pi_id: &str, method: &TestMethod, status: &'static str) -> String {
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

/// What the customer must do for 3-D Secure: a redirect when a `return_url` was given,
/// otherwise Stripe.js's `use_stripe_sdk`.
fn next_action(pi: &PaymentIntent) -> Value {
    let url = format!("https://hooks.stripe.com/3d_secure_2/hosted?payment_intent={}", pi.id);
    match &pi.return_url {
        Some(return_url) => {
            json!({"type": "redirect_to_url", "redirect_to_url": {"return_url": return_url, "url": url}})
        }
        None => {
            json!({"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": url, "source": ids::new("src")}})
        }
    }
}
