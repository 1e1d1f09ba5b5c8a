//! Validation shared by the PaymentIntent operations, with Stripe's error shapes.

use crate::cards::{self, TestMethod};
use crate::error::ApiError;
use crate::objects::{PaymentIntent, PiStatus};
use crate::params::Params;
use crate::store::{format_amount, to_json};

/// Checks amount and currency as Stripe does: currency known, amount at least the
/// currency's minimum and at most eight digits.
pub(super) fn check_amount(amount: i64, currency: &str) -> Result<(), ApiError> {
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

pub(super) fn one_of(params: &Params, key: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match params.str(key)? {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(ApiError::invalid_uncoded(format!("Invalid {key}: must be one of {}", allowed.join(", ")))
                .with_param(key))
        }
        other => Ok(other),
    }
}

pub(super) fn known_method(id: &str) -> Result<TestMethod, ApiError> {
    cards::lookup(id).ok_or_else(|| {
        let mut e = ApiError::no_such("PaymentMethod", id, "payment_method");
        e.status = actix_web::http::StatusCode::BAD_REQUEST;
        e
    })
}

pub(super) fn unexpected_state(pi: &PaymentIntent, action: &str, done: &str, allowed: &str) -> ApiError {
    state_error(
        pi,
        format!(
            "You cannot {action} this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be {done}: {allowed}.",
            pi.status.as_str()
        ),
    )
}

/// 400 `payment_intent_unexpected_state`, carrying the PaymentIntent as Stripe does.
pub(super) fn state_error(pi: &PaymentIntent, message: String) -> ApiError {
    ApiError::invalid("payment_intent_unexpected_state", message).with("payment_intent", to_json(pi))
}

/// Whether the PaymentIntent still waits for its payment: it may be updated and confirmed.
pub(super) fn awaiting_payment(status: PiStatus) -> bool {
    matches!(
        status,
        PiStatus::RequiresPaymentMethod | PiStatus::RequiresConfirmation | PiStatus::RequiresAction
    )
}
