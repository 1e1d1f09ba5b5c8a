//! Stripe's API under `/v1`: authentication, form decoding, idempotency, routing to the store,
//! and Stripe's response headers.
//!
//! A secret key (`sk_test_...`) may call everything. A publishable key (`pk_test_...`, in the
//! `key` parameter as Stripe.js sends it, or as a bearer) may only retrieve and confirm a
//! PaymentIntent, with that intent's `client_secret`, and sees the fields Stripe shows a
//! publishable key. Answers allow any origin (CORS), as Stripe's API does for Stripe.js.

use std::future::{Ready, ready};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::emulator::Emulator;
use crate::error::ApiError;
use crate::form;
use crate::ids;
use crate::params::Params;
use crate::store::{API_VERSION, Ctx, Saved, Store};

/// Idempotency keys are kept this long (Stripe: "at least 24 hours").
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;
/// Saved responses kept before expired ones are swept (a long `make dev` session).
const PRUNE_AT: usize = 10_000;
/// Longest idempotency key Stripe accepts.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// Fields of a PaymentIntent a publishable key sees (Stripe: "retrievable with publishable key").
const PUBLISHABLE_PI_FIELDS: &[&str] = &[
    "id",
    "object",
    "amount",
    "automatic_payment_methods",
    "canceled_at",
    "cancellation_reason",
    "capture_method",
    "client_secret",
    "confirmation_method",
    "created",
    "currency",
    "description",
    "last_payment_error",
    "livemode",
    "next_action",
    "payment_method",
    "payment_method_types",
    "processing",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "status",
];

/// Who calls: the account's secret key, or a publishable key (Stripe.js in a browser).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    Secret(String),
    Publishable(String),
}

impl Caller {
    fn key(&self) -> &str {
        match self {
            Caller::Secret(k) | Caller::Publishable(k) => k,
        }
    }
}

/// An operation of the emulated API.
#[derive(Debug, Clone)]
enum Op {
    CreatePi,
    RetrievePi(String),
    UpdatePi(String),
    ConfirmPi(String),
    CapturePi(String),
    CancelPi(String),
    CreateRefund,
    RetrieveRefund(String),
    RetrieveCharge(String),
    RetrieveDispute(String),
    ListDisputes,
    RetrieveEvent(String),
    CreateWebhookEndpoint,
    RetrieveWebhookEndpoint(String),
    DeleteWebhookEndpoint(String),
}

impl Op {
    fn run(&self, store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
        let only_expand = |p: &Params| p.only(&["expand"]);
        match self {
            Op::CreatePi => store.create_payment_intent(ctx, params),
            Op::RetrievePi(id) => store.retrieve_payment_intent(id, params),
            Op::UpdatePi(id) => store.update_payment_intent(ctx, id, params),
            Op::ConfirmPi(id) => store.confirm_payment_intent(ctx, id, params),
            Op::CapturePi(id) => store.capture_payment_intent(ctx, id, params),
            Op::CancelPi(id) => store.cancel_payment_intent(ctx, id, params),
            Op::CreateRefund => store.create_refund(ctx, params),
            Op::RetrieveRefund(id) => store.retrieve_refund(id, params),
            Op::RetrieveCharge(id) => {
                only_expand(params)?;
                Ok(crate::store::to_json(store.charge(id)?))
            }
            Op::RetrieveDispute(id) => {
                only_expand(params)?;
                Ok(crate::store::to_json(store.dispute(id)?))
            }
            Op::ListDisputes => store.list_disputes(params),
            Op::CreateWebhookEndpoint => store.create_webhook_endpoint(ctx, params),
            Op::RetrieveWebhookEndpoint(id) => {
                only_expand(params)?;
                store.retrieve_webhook_endpoint(id)
            }
            Op::DeleteWebhookEndpoint(id) => store.delete_webhook_endpoint(id),
            Op::RetrieveEvent(id) => {
                only_expand(params)?;
                store.event(id).map(crate::store::to_json).ok_or_else(|| ApiError::no_such("event", id, "id"))
            }
        }
    }
}

/// Registers the `/v1` routes and the Stripe-shaped 404 for everything else (an unknown
/// method on a known path included, as Stripe answers it).
pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(unrecognized));
    cfg.service(
        web::scope("/v1")
            .service(resource("/payment_intents").route(web::post().to(fixed(&Op::CreatePi))))
            .service(
                resource("/payment_intents/{id}")
                    .route(web::get().to(with_id(Op::RetrievePi)))
                    .route(web::post().to(with_id(Op::UpdatePi))),
            )
            .service(resource("/payment_intents/{id}/confirm").route(web::post().to(with_id(Op::ConfirmPi))))
            .service(resource("/payment_intents/{id}/capture").route(web::post().to(with_id(Op::CapturePi))))
            .service(resource("/payment_intents/{id}/cancel").route(web::post().to(with_id(Op::CancelPi))))
            .service(resource("/refunds").route(web::post().to(fixed(&Op::CreateRefund))))
            .service(resource("/refunds/{id}").route(web::get().to(with_id(Op::RetrieveRefund))))
            .service(resource("/charges/{id}").route(web::get().to(with_id(Op::RetrieveCharge))))
            .service(resource("/disputes").route(web::get().to(fixed(&Op::ListDisputes))))
            .service(resource("/disputes/{id}").route(web::get().to(with_id(Op::RetrieveDispute))))
            .service(resource("/events/{id}").route(web::get().to(with_id(Op::RetrieveEvent))))
            .service(resource("/webhook_endpoints").route(web::post().to(fixed(&Op::CreateWebhookEndpoint))))
            .service(
                resource("/webhook_endpoints/{id}")
                    .route(web::get().to(with_id(Op::RetrieveWebhookEndpoint)))
                    .route(web::delete().to(with_id(Op::DeleteWebhookEndpoint))),
            ),
    )
    .default_service(web::to(unrecognized));
}

type Em = web::Data<Emulator>;

/// A handler running `op`.
fn fixed(op: &Op) -> impl Fn(HttpRequest, web::Bytes, Em) -> Ready<HttpResponse> + Clone + 'static {
    let op = op.clone();
    move |req, body, em| ready(handle(&req, &body, &em, &op))
}

/// A handler running the operation `make` builds from the `{id}` in the path.
fn with_id(
    make: fn(String) -> Op,
) -> impl Fn(HttpRequest, web::Bytes, Em, web::Path<String>) -> Ready<HttpResponse> + Clone + 'static {
    move |req, body, em, id| ready(handle(&req, &body, &em, &make(id.into_inner())))
}

async fn unrecognized(req: HttpRequest) -> HttpResponse {
    let request_id = ids::new("req");
    if req.method() == actix_web::http::Method::OPTIONS {
        // A CORS preflight (the browser sends no key with it).
        return HttpResponse::NoContent()
            .insert_header(("access-control-allow-origin", "*"))
            .insert_header(("access-control-allow-methods", "GET, POST, DELETE, OPTIONS"))
            .insert_header((
                "access-control-allow-headers",
                "Authorization, Content-Type, Idempotency-Key, Stripe-Version, Stripe-Account",
            ))
            .insert_header(("access-control-max-age", "300"))
            .finish();
    }
    if let Err(e) = api_key(&req, None) {
        return respond(e.status, &e.body(), &request_id, None, false);
    }
    let e = ApiError::unrecognized_url(req.method().as_str(), req.path());
    respond(e.status, &e.body(), &request_id, None, false)
}

/// The key from `Authorization: Bearer sk_test_...` or HTTP Basic with the key as the user
/// name (`curl -u sk_test_...:`), as Stripe accepts both, or, without that header, from the
/// `key` parameter (Stripe.js: `key=pk_test_...`); Stripe's 401 otherwise.
fn api_key(req: &HttpRequest, params: Option<&Params>) -> Result<Caller, ApiError> {
    let header = req.headers().get("authorization").and_then(|v| v.to_str().ok());
    let param = params.and_then(|p| p.0.get("key")).and_then(Value::as_str);
    let (header, param) = match (header, param) {
        (Some(h), _) => (h, None),
        (None, Some(k)) => ("", Some(k.to_owned())),
        (None, None) => return Err(no_key()),
    };
    let key = if let Some(k) = param {
        k
    } else if let Some(bearer) = header.strip_prefix("Bearer ") {
        bearer.trim().to_owned()
    } else if let Some(basic) = header.strip_prefix("Basic ") {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).unwrap_or_default();
        let user_pass = String::from_utf8_lossy(&decoded).into_owned();
        user_pass.split_once(':').map_or(user_pass.clone(), |(user, _)| user.to_owned())
    } else {
        String::new()
    };
    if key.starts_with("sk_test_") && key.len() > "sk_test_".len() {
        return Ok(Caller::Secret(key));
    }
    if key.starts_with("pk_test_") && key.len() > "pk_test_".len() {
        return Ok(Caller::Publishable(key));
    }
    // Stripe shows only the start and the last four characters of a rejected key.
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    Err(ApiError::unauthorized(format!(
        "Invalid API Key provided: {}****{tail}. The emulator accepts test-mode secret keys (sk_test_...) only, and publishable keys (pk_test_...) where Stripe.js may use one.",
        key.chars().take(8).collect::<String>()
    )))
}

fn no_key() -> ApiError {
    ApiError::unauthorized(
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    )
}

/// What a publishable key may do: retrieve or confirm the PaymentIntent whose client secret
/// it presents. The `key` and `client_secret` parameters are taken out of `params` (confirm
/// knows neither).
fn publishable_allowed(store: &Store, op: &Op, params: &mut Params) -> Result<(), ApiError> {
    params.0.remove("key");
    let (Op::RetrievePi(id) | Op::ConfirmPi(id)) = op else {
        return Err(ApiError::unauthorized(
            "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
        ));
    };
    let secret = match params.0.remove("client_secret") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(ApiError::missing("client_secret")),
    };
    let pi = store.pi(id)?;
    if pi.client_secret != secret {
        return Err(ApiError::invalid_uncoded(
            "The client_secret provided does not match any associated PaymentIntent on this account.",
        )
        .with_param("client_secret"));
    }
    Ok(())
}

/// A PaymentIntent (or an error carrying one) cut down to what a publishable key sees.
fn for_publishable(mut body: Value) -> Value {
    let trim = |pi: &mut Value| {
        if let Value::Object(map) = pi {
            map.retain(|k, _| PUBLISHABLE_PI_FIELDS.contains(&k.as_str()));
        }
    };
    if let Some(pi) = body.get_mut("error").and_then(|e| e.get_mut("payment_intent")) {
        trim(pi);
    } else if body.get("object").and_then(Value::as_str) == Some("payment_intent") {
        trim(&mut body);
    }
    body
}

/// Authenticates, decodes, applies idempotency and runs `op` on the store.
fn handle(req: &HttpRequest, body: &[u8], em: &Emulator, op: &Op) -> HttpResponse {
    let request_id = ids::new("req");
    let post = req.method() == actix_web::http::Method::POST;
    let raw = if post { body } else { req.query_string().as_bytes() };
    let parsed = form::parse(raw).map(Params);
    let caller = match api_key(req, parsed.as_ref().ok()) {
        Ok(k) => k,
        Err(e) => return respond(e.status, &e.body(), &request_id, None, false),
    };
    let mut params = match parsed {
        Ok(p) => p,
        Err(e) => {
            let e = ApiError::invalid_uncoded(e.to_string());
            return respond(e.status, &e.body(), &request_id, None, false);
        }
    };
    let publishable = matches!(caller, Caller::Publishable(_));
    if publishable && let Err(e) = em.with_store(|store| publishable_allowed(store, op, &mut params)) {
        return respond(e.status, &e.body(), &request_id, None, false);
    }
    let key = caller.key().to_owned();
    // Stripe ignores Idempotency-Key on GET (it is idempotent anyway).
    let idem_key = if post {
        req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned)
    } else {
        None
    };
    if let Some(k) = &idem_key
        && (k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY_LEN)
    {
        let e = ApiError::invalid_uncoded(format!(
            "Invalid Idempotency-Key: keys must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters long."
        ));
        return respond(e.status, &e.body(), &request_id, idem_key.as_deref(), false);
    }
    let route = format!("{} {}", req.method(), req.path());
    let info = req.connection_info();
    let ctx = Ctx {
        now: em.clock.now(),
        request_id: Some(request_id.clone()),
        idempotency_key: idem_key.clone(),
        origin: Some(format!("{}://{}", info.scheme(), info.host())),
    };

    let (status, body, replayed) = em.with_store(|store| {
        if let Some(k) = &idem_key {
            let slot = (key.clone(), k.clone());
            if let Some(saved) = store.idempotency.get(&slot) {
                if saved.at + IDEMPOTENCY_TTL_SECS > ctx.now {
                    if saved.route != route || saved.params != params.0 {
                        let e = ApiError::idempotency(format!(
                            "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{k}' if you meant to execute a different request."
                        ));
                        return (e.status, e.body(), false);
                    }
                    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
                    return (status, saved.body.clone(), true);
                }
                store.idempotency.remove(&slot);
            }
        }
        let (status, body) = match op.run(store, &ctx, &params) {
            Ok(v) => (StatusCode::OK, v),
            Err(e) => (e.status, e.body()),
        };
        // Stripe saves the result once the endpoint started executing: successes and card
        // errors; a request refused by validation can be retried with the same key.
        if let Some(k) = &idem_key
            && (status.is_success() || status == StatusCode::PAYMENT_REQUIRED)
        {
            if store.idempotency.len() >= PRUNE_AT {
                store.idempotency.retain(|_, saved| saved.at + IDEMPOTENCY_TTL_SECS > ctx.now);
            }
            store.idempotency.insert(
                (key.clone(), k.clone()),
                Saved { at: ctx.now, route: route.clone(), params: params.0.clone(), status: status.as_u16(), body: body.clone() },
            );
        }
        (status, body, false)
    });
    let body = if publishable { for_publishable(body) } else { body };
    respond(status, &body, &request_id, idem_key.as_deref(), replayed)
}

fn respond(
    status: StatusCode,
    body: &Value,
    request_id: &str,
    idem_key: Option<&str>,
    replayed: bool,
) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.insert_header(("request-id", request_id))
        .insert_header(("stripe-version", API_VERSION))
        .insert_header(("access-control-allow-origin", "*"))
        .insert_header((
            "access-control-expose-headers",
            "Request-Id, Stripe-Version, Idempotency-Key, Idempotent-Replayed",
        ));
    if let Some(k) = idem_key {
        r.insert_header(("idempotency-key", k));
    }
    if replayed {
        r.insert_header(("idempotent-replayed", "true"));
    }
    r.json(body)
}
