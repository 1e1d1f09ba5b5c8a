//! `POST /webhooks/stripe`: verify, deduplicate, store, and write the payment event to the
//! outbox, all before answering, and nothing slower: no Stripe call, no broker publish.

pub mod normalize;
pub mod store;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel_async::AsyncPgConnection;
use domain::OrderId;
use domain::stripe_signature::{self, SignatureError};
use futures_util::StreamExt;
use platform::config::ExposeSecret;
use platform::events::OutboxRow;
use platform::http::ApiError;
use serde_json::Value;

use self::normalize::{Mapping, StripeEvent};
use self::store::Annotations;
use crate::state::AppState;

/// The route's path.
pub const PATH: &str = "/webhooks/stripe";
/// Stripe's signature header.
pub const SIGNATURE_HEADER: &str = "stripe-signature";
/// Body limit (Stripe's events are far smaller).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Why a request was refused; nothing was stored and nothing published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejection {
    TooLarge,
    Unreadable,
    MissingSignature,
    Signature(SignatureError),
    MalformedJson,
    NotAnEvent(&'static str),
}

impl Rejection {
    /// The `reason` label of the metric and the log line.
    fn reason(self) -> &'static str {
        match self {
            Self::TooLarge => "body_too_large",
            Self::Unreadable => "body_unreadable",
            Self::MissingSignature => "missing_signature",
            Self::Signature(
                SignatureError::Malformed | SignatureError::MissingTimestamp | SignatureError::NoSignature,
            ) => "malformed_signature",
            Self::Signature(SignatureError::Stale) => "stale_timestamp",
            Self::Signature(SignatureError::Future) => "future_timestamp",
            Self::Signature(SignatureError::Mismatch) => "signature_mismatch",
            Self::MalformedJson => "malformed_json",
            Self::NotAnEvent(_) => "not_an_event",
        }
    }

    fn into_api(self, limit: usize) -> ApiError {
        match self {
            Self::TooLarge => ApiError::PayloadTooLarge(format!("The request body exceeds {limit} bytes")),
            Self::Unreadable => ApiError::BadRequest("The request body could not be read".to_owned()),
            Self::MissingSignature => {
                ApiError::BadRequest("The Stripe-Signature header is missing".to_owned())
            }
            Self::Signature(e) => ApiError::BadRequest(format!("Invalid signature: {e}")),
            Self::MalformedJson => ApiError::BadRequest("The body is not valid JSON".to_owned()),
            Self::NotAnEvent(why) => ApiError::BadRequest(format!("The body is not a Stripe event: {why}")),
        }
    }
}

/// What became of a verified event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored, and its payment event written to the outbox.
    Published,
    /// Already stored by an earlier delivery: nothing done.
    Duplicate,
    /// Stored; a type this service does not handle.
    UnhandledType,
    /// Stored and flagged; no order could be found.
    MissingOrderId,
    /// Stored and flagged; the object lacks a field the payment event needs.
    InvalidObject,
}

impl Outcome {
    /// The label in responses and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Duplicate => "duplicate",
            Self::UnhandledType => "unhandled_type",
            Self::MissingOrderId => "missing_order_id",
            Self::InvalidObject => "invalid_object",
        }
    }
}

/// The handler.
pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (body, signature) = match verified_body(&req, payload, &state).await {
        Ok(ok) => ok,
        Err(rejection) => return Err(refuse(&state, rejection)),
    };
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return Err(refuse(&state, Rejection::MalformedJson));
    };
    let event = match normalize::read_event(&value) {
        Ok(e) => e,
        Err(normalize::EventError::NotAnEvent(why)) => {
            return Err(refuse(&state, Rejection::NotAnEvent(why)));
        }
    };
    let mapping = normalize::map(&event);
    let result = async {
        let mut conn = state.pool.get().await?;
        Ok::<_, ApiError>(record(&mut conn, &event, &value, &mapping).await?)
    }
    .await;
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            // Not a 200: Stripe delivers the event again later.
            state.metrics.event("error");
            return Err(e);
        }
    };
    state.metrics.event(outcome.as_str());
    if outcome == Outcome::Published {
        state.relay_wake.notify_one();
    }
    match outcome {
        Outcome::MissingOrderId | Outcome::InvalidObject => tracing::warn!(
            stripe_event_id = event.id,
            stripe_type = event.event_type,
            outcome = outcome.as_str(),
            reason = invalid_reason(&mapping),
            "stripe event stored but not published"
        ),
        _ => tracing::debug!(
            stripe_event_id = event.id,
            stripe_type = event.event_type,
            outcome = outcome.as_str(),
            secret_index = signature.secret_index,
            "stripe event received"
        ),
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"received": true, "outcome": outcome.as_str()})))
}

fn invalid_reason(mapping: &Mapping) -> &'static str {
    match mapping {
        Mapping::Invalid { reason, .. } => reason,
        _ => "no metadata.order_id and no earlier event of this PaymentIntent names an order",
    }
}

/// Reads the body within the limit and checks its signature.
async fn verified_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(web::Bytes, stripe_signature::Verified), Rejection> {
    let body = read_body(req, payload, state.body_limit).await?;
    let header = req.headers().get(SIGNATURE_HEADER).ok_or(Rejection::MissingSignature)?;
    let header = header.to_str().map_err(|_| Rejection::Signature(SignatureError::Malformed))?;
    let secrets: Vec<&str> = state.secrets.iter().map(ExposeSecret::expose_secret).collect();
    let now = chrono::Utc::now().timestamp();
    let verified = stripe_signature::verify(header, &body, &secrets, now, state.tolerance_secs)
        .map_err(Rejection::Signature)?;
    Ok((body, verified))
}

/// The raw body, refused as soon as it is known to exceed `limit` (by Content-Length or while streaming).
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, Rejection> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Rejection::TooLarge);
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Rejection::Unreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(Rejection::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Counts and logs a refusal (never the body, the header or a secret) and makes its response.
fn refuse(state: &AppState, rejection: Rejection) -> ApiError {
    state.metrics.rejected(rejection.reason());
    tracing::warn!(reason = rejection.reason(), "stripe webhook refused");
    rejection.into_api(state.body_limit)
}

/// Stores the event and, when it maps to a payment event with a known order, writes that event
/// to the outbox in the same statement (one transaction, one round trip).
async fn record(
    conn: &mut AsyncPgConnection,
    event: &StripeEvent<'_>,
    payload: &Value,
    mapping: &Mapping,
) -> diesel::QueryResult<Outcome> {
    let mut notes = Annotations::default();
    let mut outbox = None;
    let mut outcome = Outcome::Published;
    match mapping {
        Mapping::Unhandled => {
            notes.flags.push(store::FLAG_UNHANDLED_TYPE);
            outcome = Outcome::UnhandledType;
        }
        Mapping::Invalid { payment_intent_id, .. } => {
            notes.payment_intent_id = payment_intent_id.as_deref();
            notes.flags.push(store::FLAG_INVALID_OBJECT);
            outcome = Outcome::InvalidObject;
        }
        Mapping::Payment(payment) => {
            notes.payment_intent_id = Some(&payment.payment_intent_id);
            let order = match payment.order_id {
                Some(order) => Some(order),
                None => store::order_for_payment_intent(conn, &payment.payment_intent_id).await?.map(OrderId),
            };
            if let Some(order) = order {
                notes.order_id = Some(order.get());
                notes.published_type = Some(payment.event_type());
                let envelope = payment
                    .envelope(order, event)
                    .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
                outbox = Some(OutboxRow::new(&envelope)?);
            } else {
                notes.flags.push(store::FLAG_MISSING_ORDER_ID);
                outcome = Outcome::MissingOrderId;
            }
        }
    }
    // No NOTIFY with the outbox row: it would serialise every webhook's commit; the handler
    // wakes the relay instead.
    if !store::insert(conn, event, payload, &notes, outbox.as_ref()).await? {
        return Ok(Outcome::Duplicate);
    }
    Ok(outcome)
}
