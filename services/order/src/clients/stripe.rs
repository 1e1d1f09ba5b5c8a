//! Stripe through async-stripe: PaymentIntents and refunds, always with idempotency keys derived
//! from our own ids, so a retried call can never make a second object.

use std::collections::HashMap;

use domain::ids::OrderId;
use domain::money::Money;
use domain::order::{DisputeView, IntentStatus, StripeView};
use platform::config::{ExposeSecret, SecretString};
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::charge::RetrieveCharge;
use stripe_core::dispute::ListDispute;
use stripe_core::payment_intent::{CancelPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent};
use stripe_core::refund::CreateRefund;
use stripe_shared::{PaymentIntentAllowedPaymentMethodTypes, PaymentIntentStatus};

use super::Unavailable;

/// A PaymentIntent, reduced to what orders need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// `pi_...`.
    pub id: String,
    /// Given to the customer's browser to confirm the payment.
    pub client_secret: Option<String>,
    /// Stripe's status, e.g. `requires_payment_method`, `succeeded`.
    pub status: String,
    /// The amount, in minor units.
    pub amount: i64,
    /// What was received.
    pub amount_received: i64,
}

/// What the order needs to say when it makes a PaymentIntent.
#[derive(Debug, Clone)]
pub struct NewIntent<'a> {
    /// The order (metadata and idempotency key).
    pub order_id: OrderId,
    /// Its number (metadata, for people reading the Stripe dashboard).
    pub order_number: &'a str,
    /// The total to charge.
    pub amount: Money,
    /// The checkout's W3C traceparent, so the webhook's spans can link to the checkout.
    pub traceparent: Option<&'a str>,
}

/// Why a cancel did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// The PaymentIntent can no longer be canceled (it succeeded or is processing).
    #[error("the payment can no longer be canceled (status {0})")]
    TooLate(String),
    /// Stripe could not be reached or failed.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// The Stripe client of the order service.
#[derive(Clone)]
pub struct Payments {
    client: Client,
}

fn key(k: &str) -> Result<RequestStrategy, Unavailable> {
    IdempotencyKey::new(k).map(RequestStrategy::Idempotent).map_err(|e| Unavailable::new("stripe", e))
}

fn unavailable(e: StripeError) -> Unavailable {
    // The Debug of a Stripe error has no key in it; the message is enough for a log line.
    match e {
        StripeError::Stripe(api, status) => Unavailable::new(
            "stripe",
            format!("{status} {}", api.message.unwrap_or_else(|| "error".to_owned())),
        ),
        other => Unavailable::new("stripe", other),
    }
}

fn intent(pi: stripe_shared::PaymentIntent) -> Intent {
    Intent {
        id: pi.id.to_string(),
        client_secret: pi.client_secret,
        status: pi.status.as_str().to_owned(),
        amount: pi.amount,
        amount_received: pi.amount_received,
    }
}

/// The idempotency key of an order's one PaymentIntent.
pub fn intent_key(order: OrderId) -> String {
    format!("order-{order}-payment-intent")
}

impl Payments {
    /// A client for `base` (with a trailing `/`) with `secret_key`.
    pub fn new(base: &str, secret_key: &SecretString) -> Result<Self, Unavailable> {
        let client = ClientBuilder::new(secret_key.expose_secret())
            .url(base)
            .build()
            .map_err(|e| Unavailable::new("stripe", e))?;
        Ok(Self { client })
    }

    /// Creates the order's PaymentIntent, or gets the one an earlier try made (same key, same
    /// parameters: Stripe replays the first answer).
    pub async fn create_intent(&self, new: &NewIntent<'_>) -> Result<Intent, Unavailable> {
        let currency: stripe_types::Currency = new
            .amount
            .currency()
            .code()
            .to_ascii_lowercase()
            .parse()
            .map_err(|_| Unavailable::new("stripe", "currency not supported by the client"))?;
        let mut metadata = HashMap::from([
            ("order_id".to_owned(), new.order_id.to_string()),
            ("order_number".to_owned(), new.order_number.to_owned()),
        ]);
        if let Some(tp) = new.traceparent {
            metadata.insert("traceparent".to_owned(), tp.to_owned());
        }
        let pi = CreatePaymentIntent::new(new.amount.cents(), currency)
            .metadata(metadata)
            .allowed_payment_method_types(vec![PaymentIntentAllowedPaymentMethodTypes::Card])
            .customize()
            .request_strategy(key(&intent_key(new.order_id))?)
            .send(&self.client)
            .await
            .map_err(unavailable)?;
        Ok(intent(pi))
    }

    /// Reads a PaymentIntent.
    pub async fn retrieve(&self, id: &str) -> Result<Intent, Unavailable> {
        RetrievePaymentIntent::new(id).send(&self.client).await.map(intent).map_err(unavailable)
    }

    /// What Stripe holds now for `payment_intent`: the intent, its latest charge (captured and
    /// refunded amounts) and its disputes. Three reads, no connection or lock held by the caller.
    pub async fn view(&self, payment_intent: &str) -> Result<StripeView, Unavailable> {
        let pi = RetrievePaymentIntent::new(payment_intent).send(&self.client).await.map_err(unavailable)?;
        let status: IntentStatus =
            pi.status.as_str().parse().map_err(|e: String| Unavailable::new("stripe", e))?;
        let charge_id = pi.latest_charge.as_ref().map(|c| match c {
            stripe_types::Expandable::Id(id) => id.as_str().to_owned(),
            stripe_types::Expandable::Object(ch) => ch.id.as_str().to_owned(),
        });
        let (captured, refunded) = match &charge_id {
            Some(id) if pi.amount_received > 0 => {
                let ch = RetrieveCharge::new(id.as_str()).send(&self.client).await.map_err(unavailable)?;
                let captured = if ch.captured { ch.amount_captured } else { 0 };
                (captured, StripeView::refunded_of_charge(ch.amount, captured, ch.amount_refunded))
            }
            _ => (0, 0),
        };
        let disputes = if charge_id.is_some() {
            ListDispute::new()
                .payment_intent(payment_intent)
                .limit(100)
                .send(&self.client)
                .await
                .map_err(unavailable)?
                .data
                .into_iter()
                .map(|d| DisputeView {
                    id: d.id.as_str().to_owned(),
                    amount_cents: d.amount,
                    status: d.status.as_str().to_owned(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(StripeView {
            payment_intent_id: pi.id.as_str().to_owned(),
            status,
            last_attempt_failed: pi.last_payment_error.is_some(),
            currency: pi.currency.to_string().to_ascii_uppercase(),
            amount_cents: pi.amount,
            // A charge read a moment later can only know more; the intent's figure is the floor.
            captured_cents: captured.max(pi.amount_received),
            refunded_cents: refunded,
            charge_id,
            disputes,
        })
    }

    /// Cancels a PaymentIntent; an already canceled one is fine.
    pub async fn cancel(&self, id: &str) -> Result<(), CancelError> {
        match CancelPaymentIntent::new(id).send(&self.client).await {
            Ok(_) => Ok(()),
            Err(StripeError::Stripe(api, 400)) => {
                // Refused: find out why from the object itself.
                let current = self.retrieve(id).await?;
                if current.status == PaymentIntentStatus::Canceled.as_str() {
                    Ok(())
                } else {
                    tracing::info!(payment_intent = id, status = %current.status, message = ?api.message, "cancel refused");
                    Err(CancelError::TooLate(current.status))
                }
            }
            Err(e) => Err(unavailable(e).into()),
        }
    }

    /// Refunds `amount` of `payment_intent` under `idempotency_key`; returns the refund id and status.
    pub async fn refund(
        &self,
        payment_intent: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> Result<(String, String), RefundError> {
        let res = CreateRefund::new()
            .payment_intent(payment_intent)
            .amount(amount)
            .customize()
            .request_strategy(key(idempotency_key)?)
            .send(&self.client)
            .await;
        match res {
            Ok(r) => Ok((r.id.to_string(), r.status.unwrap_or_else(|| "succeeded".to_owned()))),
            Err(StripeError::Stripe(api, status)) if (400..500).contains(&status) && status != 429 => {
                Err(RefundError::Refused(api.message.unwrap_or_else(|| "refused".to_owned())))
            }
            Err(e) => Err(RefundError::Unavailable(unavailable(e))),
        }
    }
}

/// Why a refund was not made.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    /// Stripe said no (e.g. more than what is left): retrying will not help.
    #[error("Stripe refused the refund: {0}")]
    Refused(String),
    /// Stripe could not be reached: the same key can be retried.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
