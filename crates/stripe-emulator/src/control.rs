//! The control API under `/_emulator` (JSON in, JSON out): what a test or a person uses to
//! play the customer, the bank and the Stripe CLI. Not part of Stripe's API, so no API key.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::error::ApiError;
use crate::store::Ctx;
use crate::trigger::TriggerRequest;

/// Registers `/health` and `/_emulator/...`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health)).service(
        web::scope("/_emulator")
            .route("/webhook_endpoints", web::get().to(list_endpoints))
            .route("/webhook_endpoints", web::post().to(add_endpoint))
            .route("/trigger", web::post().to(trigger))
            .route("/events", web::get().to(list_events))
            .route("/payment_intents", web::get().to(list_payment_intents))
            .route("/events/{id}/resend", web::post().to(resend))
            .route("/deliver", web::post().to(deliver))
            .route("/deliveries", web::get().to(deliveries))
            .route("/payment_intents/{id}/authenticate", web::post().to(authenticate))
            .route("/payment_intents/{id}/settle", web::post().to(settle))
            .route("/disputes/{id}/close", web::post().to(close_dispute))
            .route("/clock/advance", web::post().to(advance_clock)),
    );
}

type Em = web::Data<Emulator>;

fn error(e: &ApiError) -> HttpResponse {
    HttpResponse::build(e.status).json(e.body())
}

/// Reads a JSON body; an empty body is `{}`.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_uncoded(format!("Invalid JSON body: {e}")))
}

fn control_ctx(em: &Emulator) -> Ctx {
    Ctx { now: em.clock.now(), request_id: None, idempotency_key: None, origin: None }
}

fn result(r: Result<Value, ApiError>) -> HttpResponse {
    match r {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => error(&e),
    }
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn list_endpoints(em: Em) -> HttpResponse {
    HttpResponse::Ok().json(json!({"data": em.endpoints()}))
}

#[derive(Deserialize)]
struct NewEndpoint {
    url: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    enabled_events: Option<Vec<String>>,
}

async fn add_endpoint(em: Em, bytes: web::Bytes) -> HttpResponse {
    let req: NewEndpoint = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    if !(req.url.starts_with("http://") || req.url.starts_with("https://")) {
        return error(&ApiError::invalid_uncoded("url must be an http:// or https:// URL").with_param("url"));
    }
    let events = req.enabled_events.filter(|e| !e.is_empty()).unwrap_or_else(|| vec!["*".to_owned()]);
    let now = em.clock.now();
    HttpResponse::Ok().json(em.with_store(|s| s.add_endpoint(&req.url, req.secret, events, now)))
}

async fn trigger(em: Em, bytes: web::Bytes) -> HttpResponse {
    let req: TriggerRequest = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    let ctx = control_ctx(&em);
    match em.with_store(|s| s.trigger(&ctx, &req)) {
        Ok((pi, events)) => HttpResponse::Ok().json(json!({"payment_intent": pi, "events": events})),
        Err(e) => error(&e),
    }
}

#[derive(Deserialize)]
struct EventFilter {
    #[serde(default, rename = "type")]
    type_: Option<String>,
}

/// Every PaymentIntent, oldest first (Stripe's list is paged and filtered; an audit such as
/// the chaos suite's wants them all at once).
async fn list_payment_intents(em: Em) -> HttpResponse {
    let mut all: Vec<_> = em.with_store(|s| s.payment_intents.values().cloned().collect());
    all.sort_by(|a: &crate::objects::PaymentIntent, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    HttpResponse::Ok().json(json!({"data": all}))
}

async fn list_events(em: Em, q: web::Query<EventFilter>) -> HttpResponse {
    let events: Vec<_> =
        em.events().into_iter().filter(|e| q.type_.as_ref().is_none_or(|t| &e.type_ == t)).collect();
    HttpResponse::Ok().json(json!({"data": events}))
}

#[derive(Deserialize)]
struct Resend {
    #[serde(default)]
    times: Option<usize>,
}

async fn resend(em: Em, id: web::Path<String>, bytes: web::Bytes) -> HttpResponse {
    let req: Resend = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    let ids = vec![id.into_inner(); req.times.unwrap_or(1).clamp(1, 100)];
    redeliver(&em, &ids)
}

#[derive(Deserialize)]
struct Deliver {
    events: Vec<String>,
}

async fn deliver(em: Em, bytes: web::Bytes) -> HttpResponse {
    match body::<Deliver>(&bytes) {
        Ok(req) => redeliver(&em, &req.events),
        Err(e) => error(&e),
    }
}

fn redeliver(em: &Emulator, ids: &[String]) -> HttpResponse {
    match em.redeliver(ids) {
        Ok(()) => HttpResponse::build(StatusCode::ACCEPTED).json(json!({"queued": ids})),
        Err(e) => error(&e),
    }
}

#[derive(Deserialize)]
struct DeliveryFilter {
    #[serde(default)]
    event_id: Option<String>,
}

async fn deliveries(em: Em, q: web::Query<DeliveryFilter>) -> HttpResponse {
    let attempts: Vec<_> = em
        .deliveries()
        .into_iter()
        .filter(|a| q.event_id.as_ref().is_none_or(|id| &a.event_id == id))
        .collect();
    HttpResponse::Ok().json(json!({"data": attempts}))
}

#[derive(Deserialize)]
struct Outcome {
    #[serde(default)]
    outcome: Option<String>,
}

fn outcome(bytes: &[u8], yes: &str, no: &str) -> Result<Option<bool>, ApiError> {
    let req: Outcome = body(bytes)?;
    match req.outcome.as_deref() {
        None => Ok(None),
        Some(o) if o == yes => Ok(Some(true)),
        Some(o) if o == no => Ok(Some(false)),
        Some(o) => Err(ApiError::invalid_uncoded(format!("outcome must be '{yes}' or '{no}', not '{o}'"))
            .with_param("outcome")),
    }
}

async fn authenticate(em: Em, id: web::Path<String>, bytes: web::Bytes) -> HttpResponse {
    let completed = match outcome(&bytes, "complete", "fail") {
        Ok(o) => o.unwrap_or(true),
        Err(e) => return error(&e),
    };
    let ctx = control_ctx(&em);
    result(em.with_store(|s| s.authenticate(&ctx, &id, completed)))
}

async fn settle(em: Em, id: web::Path<String>, bytes: web::Bytes) -> HttpResponse {
    let succeeded = match outcome(&bytes, "succeeded", "failed") {
        Ok(o) => o,
        Err(e) => return error(&e),
    };
    let ctx = control_ctx(&em);
    result(em.with_store(|s| s.settle(&ctx, &id, succeeded)))
}

async fn close_dispute(em: Em, id: web::Path<String>, bytes: web::Bytes) -> HttpResponse {
    let won = match outcome(&bytes, "won", "lost") {
        Ok(o) => o.unwrap_or(false),
        Err(e) => return error(&e),
    };
    let ctx = control_ctx(&em);
    result(em.with_store(|s| s.close_dispute(&ctx, &id, won)))
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(em: Em, bytes: web::Bytes) -> HttpResponse {
    match body::<Advance>(&bytes) {
        Ok(req) => {
            em.clock.advance(req.seconds);
            HttpResponse::Ok().json(json!({"now": em.clock.now()}))
        }
        Err(e) => error(&e),
    }
}
