//! `POST /v1/payment_intents`, `GET`/`POST /v1/payment_intents/{id}` and
//! `POST /v1/payment_intents/{id}/cancel`: a PaymentIntent's life outside its payment attempts.

use serde_json::{Value, json};

use super::checks::{awaiting_payment, check_amount, known_method, one_of, unexpected_state};
use super::confirm::CONFIRM_PARAMS;
use crate::error::ApiError;
use crate::ids;
use crate::objects::{PaymentIntent, PiStatus};
use crate::params::Params;
use crate::store::{Ctx, Store, to_json};

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
        let open = awaiting_payment(pi.status);
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
}
