//! The 3-D Secure page a shopper's browser is sent to by `next_action` (in an iframe for
//! `use_stripe_sdk`, as a redirect for `redirect_to_url`): the stand-in for the issuer's page
//! Stripe shows in test mode, with "Complete authentication" and "Fail authentication".
//! Not part of Stripe's API, so no API key: the PaymentIntent's client secret in the URL is
//! what lets the page act, as with Stripe's hosted pages. The answer does what the control
//! call `POST /_emulator/payment_intents/{id}/authenticate` does, then redirects to the
//! `return_url` or, in an iframe, tells the parent page with `postMessage`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::emulator::Emulator;
use crate::objects::{PaymentIntent, PiStatus};
use crate::store::{Ctx, format_amount};

/// The challenge page (`GET`, `?payment_intent=&client_secret=`).
pub const HOSTED_PATH: &str = "/3d_secure_2/hosted";
/// Where its buttons post (`payment_intent`, `client_secret`, `outcome`).
pub const AUTHENTICATE_PATH: &str = "/3d_secure_2/authenticate";

/// Registers the challenge page and its form target.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(HOSTED_PATH, web::get().to(page)).route(AUTHENTICATE_PATH, web::post().to(authenticate));
}

/// The URL of the challenge page for `pi`, on the emulator as the caller reached it.
pub fn challenge_url(origin: &str, pi: &PaymentIntent) -> String {
    format!("{origin}{HOSTED_PATH}?payment_intent={}&client_secret={}", pi.id, pi.client_secret)
}

type Em = web::Data<Emulator>;

#[derive(Deserialize)]
struct Challenge {
    payment_intent: String,
    client_secret: String,
}

#[derive(Deserialize)]
struct Answer {
    payment_intent: String,
    client_secret: String,
    outcome: String,
}

/// The PaymentIntent when the secret is its own (compared in constant time).
fn intent(em: &Emulator, id: &str, secret: &str) -> Option<PaymentIntent> {
    em.with_store(|s| s.payment_intents.get(id).cloned())
        .filter(|pi| constant_time_eq(pi.client_secret.as_bytes(), secret.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn html(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:15px/1.5 system-ui,sans-serif;margin:0;padding:1.25rem;color:#1d2430}}
h1{{font-size:1.1rem;margin:0 0 .75rem}}.amount{{font-size:1.4rem;font-weight:700}}
.note{{color:#5d6878;font-size:.85rem}}form{{display:flex;gap:.75rem;margin-top:1rem}}
button{{font:inherit;padding:.6rem 1rem;border-radius:6px;border:none;cursor:pointer;color:#fff}}
.ok{{background:#2b8a3e}}.fail{{background:#c92a2a}}</style></head><body>{body}</body></html>"#
        ))
}

fn not_found() -> HttpResponse {
    html(
        StatusCode::NOT_FOUND,
        "Not found",
        "<h1>No such authentication</h1><p class=\"note\">The link is wrong or incomplete.</p>",
    )
}

async fn page(em: Em, query: web::Query<Challenge>) -> HttpResponse {
    let Some(pi) = intent(&em, &query.payment_intent, &query.client_secret) else { return not_found() };
    if pi.status != PiStatus::RequiresAction {
        return html(
            StatusCode::CONFLICT,
            "Nothing to authenticate",
            &format!(
                "<h1>Nothing to authenticate</h1><p class=\"note\">This payment is {}.</p>",
                pi.status.as_str()
            ),
        );
    }
    let amount = format_amount(pi.amount, &pi.currency);
    html(
        StatusCode::OK,
        "3D Secure 2 test page",
        &format!(
            r#"<h1>3D Secure 2 test page</h1>
<p>Confirm the payment of</p><p class="amount">{amount}</p>
<p class="note">Stripe emulator: in test mode the bank's page is this one. Complete or fail the authentication.</p>
<form method="post" action="{AUTHENTICATE_PATH}">
<input type="hidden" name="payment_intent" value="{id}"><input type="hidden" name="client_secret" value="{secret}">
<button class="ok" name="outcome" value="complete">Complete authentication</button>
<button class="fail" name="outcome" value="fail">Fail authentication</button>
</form>"#,
            id = pi.id,
            secret = pi.client_secret,
        ),
    )
}

async fn authenticate(em: Em, form: web::Form<Answer>) -> HttpResponse {
    let completed = match form.outcome.as_str() {
        "complete" => true,
        "fail" => false,
        _ => {
            return html(StatusCode::BAD_REQUEST, "Bad request", "<h1>outcome must be complete or fail</h1>");
        }
    };
    let Some(pi) = intent(&em, &form.payment_intent, &form.client_secret) else { return not_found() };
    let ctx = Ctx { now: em.clock.now(), request_id: None, idempotency_key: None, origin: None };
    let after = match em.with_store(|s| s.authenticate(&ctx, &pi.id, completed)) {
        Ok(v) => v,
        Err(e) => {
            return html(
                e.status,
                "Nothing to authenticate",
                &format!(
                    "<h1>Nothing to authenticate</h1><p class=\"note\">This payment is {}.</p>",
                    pi.status.as_str()
                ),
            );
        }
    };
    let status = after.get("status").and_then(|s| s.as_str()).unwrap_or_default().to_owned();
    let redirect_status = if completed { "succeeded" } else { "failed" };
    if let Some(return_url) = &pi.return_url {
        let sep = if return_url.contains('?') { '&' } else { '?' };
        let location = format!(
            "{return_url}{sep}payment_intent={}&payment_intent_client_secret={}&redirect_status={redirect_status}",
            pi.id, pi.client_secret
        );
        return HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish();
    }
    let message = json!({"type": "stripe-3ds-result", "payment_intent": pi.id, "status": status});
    html(
        StatusCode::OK,
        "Authentication done",
        &format!(
            r#"<h1>Authentication {}</h1><p class="note">You can return to the shop.</p>
<script>window.parent.postMessage({message}, "*");</script>"#,
            if completed { "complete" } else { "failed" }
        ),
    )
}
