//! `POST /webhooks/stripe`: verify, deduplicate, store, and write the payment event to the
//! outbox, all before answering, and nothing slower: no Stripe call, no broker publish.

pub mod batch;
pub mod metrics;
pub mod normalize;
pub mod repo;
pub mod store;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use domain::OrderId;
use domain::stripe_signature::{self, SignatureError};
use futures_util::StreamExt;
use platform::config::ExposeSecret;
use platform::events::OutboxRow;
use platform::http::ApiError;
use serde_json::Value;

use self::normalize::{Mapping, StripeEvent};
use self::repo::NewEvent;
use self::store::{StoreError, Stored};
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
    /// Stored, and its payment event written to the outbox (with `order_id` when known).
    Published,
    /// Already stored by an earlier delivery: nothing done.
    Duplicate,
    /// Stored; a type this service does not handle.
    UnhandledType,
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
            Self::InvalidObject => "invalid_object",
        }
    }
}

/// The handler.
#[utoipa::path(post, path = "/webhooks/stripe", operation_id = "stripe_webhook", tag = "webhooks",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix>,v1=<hex>[,v1=<hex>...]`: HMAC-SHA256 over `{t}.{raw body}` with an endpoint secret")),
    request_body(content = Object, description = "A Stripe event, verified over its raw bytes (1 MiB at most)"),
    responses((status = 200, description = "Accepted (handled, unhandled or seen before)", body = Received),
        (status = 400, description = "Bad or missing signature, stale time stamp, or not an event", body = platform::openapi::ErrorBody),
        (status = 413, description = "Larger than 1 MiB", body = platform::openapi::ErrorBody)))]
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
    let outcome = match record(&state, &event, &body, &value, &mapping).await {
        Ok(o) => o,
        Err(e) => {
            // Not a 200: Stripe delivers the event again later.
            state.metrics.event("error");
            return Err(e);
        }
    };
    state.metrics.event(outcome.as_str());
    if outcome == Outcome::InvalidObject {
        tracing::warn!(
            stripe_event_id = event.id,
            stripe_type = event.event_type,
            outcome = outcome.as_str(),
            reason = invalid_reason(&mapping),
            "stripe event stored but not published"
        );
    } else {
        tracing::debug!(
            stripe_event_id = event.id,
            stripe_type = event.event_type,
            outcome = outcome.as_str(),
            secret_index = signature.secret_index,
            "stripe event received"
        );
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"received": true, "outcome": outcome.as_str()})))
}

fn invalid_reason(mapping: &Mapping) -> &'static str {
    match mapping {
        Mapping::Invalid { reason, .. } => reason,
        _ => "not an invalid object",
    }
}

/// One purchase, one trace: the checkout put its `traceparent` in the PaymentIntent's metadata
/// (Stripe copies it to the charge), so the published event carries that trace context instead
/// of this request's, and the consumers' spans join the checkout's trace.
fn continue_purchase_trace(row: &mut OutboxRow, event: &StripeEvent<'_>) {
    let traceparent = event.object.get("metadata").and_then(|m| m.get("traceparent")).and_then(Value::as_str);
    // version-traceid-spanid-flags: 2 + 32 + 16 + 2 hex digits and three dashes.
    let valid = |tp: &str| {
        tp.len() == 55 && tp.split('-').count() == 4 && tp.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
    };
    if let (Some(tp), Some(headers)) = (traceparent.filter(|tp| valid(tp)), row.headers.as_object_mut()) {
        headers.insert("traceparent".to_owned(), Value::String(tp.to_owned()));
        headers.remove("tracestate");
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

/// Stores the event and, when it maps to a payment event, writes that event to the outbox in
/// the same statement: the group commit of every event that arrives at about the same time
/// (one transaction, one round trip; `store`). Answers once that statement has committed.
async fn record(
    state: &AppState,
    event: &StripeEvent<'_>,
    body: &[u8],
    value: &Value,
    mapping: &Mapping,
) -> Result<Outcome, ApiError> {
    let mut new = NewEvent {
        id: event.id.to_owned(),
        event_type: event.event_type.to_owned(),
        created: event.created,
        api_version: event.api_version.map(str::to_owned),
        livemode: event.livemode,
        // serde_json accepted the body, so it is UTF-8; stored as received rather than re-serialised.
        payload: std::str::from_utf8(body).map_or_else(|_| value.to_string(), str::to_owned),
        order_id: None,
        payment_intent_id: None,
        published_type: None,
        flags: Vec::new(),
        outbox: None,
    };
    let mut outcome = Outcome::Published;
    match mapping {
        Mapping::Unhandled => {
            new.flags.push(repo::FLAG_UNHANDLED_TYPE);
            outcome = Outcome::UnhandledType;
        }
        Mapping::Invalid { payment_intent_id, .. } => {
            new.payment_intent_id.clone_from(payment_intent_id);
            new.flags.push(repo::FLAG_INVALID_OBJECT);
            outcome = Outcome::InvalidObject;
        }
        Mapping::Payment(payment) => {
            new.payment_intent_id = Some(payment.payment_intent_id.clone());
            let mut order = payment.order_id;
            if order.is_none() {
                // A dispute without metadata: looked up before joining the batch (ADR 0040 §2).
                let mut conn = state.pool.get().await?;
                order =
                    repo::order_for_payment_intent(&mut conn, &payment.payment_intent_id).await?.map(OrderId);
            }
            // Published either way: without an order id, order finds the order by the
            // PaymentIntent (a dispute can be the first event ever seen for its intent).
            new.order_id = order.map(OrderId::get);
            new.published_type = Some(payment.event_type());
            if order.is_none() {
                new.flags.push(repo::FLAG_MISSING_ORDER_ID);
            }
            let envelope = payment.envelope(order, event).map_err(ApiError::internal)?;
            let mut row = OutboxRow::new(&envelope)?;
            continue_purchase_trace(&mut row, event);
            new.outbox = Some(row);
        }
    }
    // No NOTIFY with the outbox row: it would serialise every webhook's commit; the batch wakes
    // the relay of this process after its commit instead.
    match state.intake.submit(new).await {
        Ok(Ok(Stored::New)) => Ok(outcome),
        Ok(Ok(Stored::Duplicate)) => Ok(Outcome::Duplicate),
        Ok(Err(StoreError::Unavailable(_))) | Err(_) => {
            Err(ApiError::Unavailable("The database is temporarily unavailable".to_owned()))
        }
        Ok(Err(StoreError::Failed(e))) => Err(ApiError::internal(e)),
    }
}

/// `{"received": true, "outcome": ...}` (a schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Received {
    /// Always `true`.
    received: bool,
    /// `published`, `duplicate`, `unhandled_type` or `invalid_object`.
    #[schema(pattern = "^(published|duplicate|unhandled_type|invalid_object)$")]
    outcome: String,
}
