//! Stripe-shaped events, as Stripe's API reference documents the Event, PaymentIntent, Charge
//! (with its refunds list) and Dispute objects, trimmed of fields nobody reads.
#![allow(clippy::needless_pass_by_value)] // json! takes its values by reference

use serde_json::{Value, json};

/// A fresh `evt_...` id.
pub fn event_id() -> String {
    format!("evt_{}", uuid::Uuid::new_v4().simple())
}

/// An Event wrapping `object`.
pub fn event(id: &str, event_type: &str, object: Value) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": chrono::Utc::now().timestamp(),
        "data": {"object": object},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": event_type
    })
}

/// A PaymentIntent of 29.99 USD in `status`, with `metadata.order_id` when given.
pub fn payment_intent(pi: &str, status: &str, order_id: Option<&str>) -> Value {
    let metadata = order_id.map_or_else(|| json!({}), |o| json!({"order_id": o}));
    json!({
        "id": pi,
        "object": "payment_intent",
        "amount": 2999,
        "amount_capturable": 0,
        "amount_received": if status == "succeeded" { 2999 } else { 0 },
        "capture_method": "automatic",
        "client_secret": format!("{pi}_secret_abc"),
        "confirmation_method": "automatic",
        "created": 1_700_000_000,
        "currency": "usd",
        "last_payment_error": null,
        "latest_charge": null,
        "livemode": false,
        "metadata": metadata,
        "next_action": null,
        "payment_method": "pm_card_visa",
        "payment_method_types": ["card"],
        "status": status
    })
}

/// A PaymentIntent event (`payment_intent.<suffix>`) with the status that event reports.
pub fn payment_intent_event(id: &str, suffix: &str, pi: &str, order_id: Option<&str>) -> Value {
    let status = match suffix {
        "payment_failed" => "requires_payment_method",
        other => other,
    };
    let mut object = payment_intent(pi, status, order_id);
    if suffix == "payment_failed" {
        object["last_payment_error"] = json!({
            "code": "card_declined", "decline_code": "generic_decline",
            "message": "Your card was declined.", "type": "card_error"
        });
    }
    if suffix == "requires_action" {
        object["next_action"] = json!({"type": "use_stripe_sdk", "use_stripe_sdk": {}});
    }
    event(id, &format!("payment_intent.{suffix}"), object)
}

/// `charge.refunded`: a 50.00 EUR charge of `pi` with `refunded` cents refunded so far; the
/// charge carries the PaymentIntent's metadata, as Stripe copies it.
pub fn charge_refunded(id: &str, pi: &str, order_id: Option<&str>, refunded: i64) -> Value {
    let metadata = order_id.map_or_else(|| json!({}), |o| json!({"order_id": o}));
    event(
        id,
        "charge.refunded",
        json!({
            "id": "ch_3Test",
            "object": "charge",
            "amount": 5000,
            "amount_captured": 5000,
            "amount_refunded": refunded,
            "captured": true,
            "currency": "eur",
            "metadata": metadata,
            "paid": true,
            "payment_intent": pi,
            "refunded": refunded >= 5000,
            "refunds": {"object": "list", "data": [{
                "id": "re_3Test", "object": "refund", "amount": refunded, "charge": "ch_3Test",
                "currency": "eur", "payment_intent": pi, "status": "succeeded"
            }], "has_more": false, "total_count": 1, "url": "/v1/charges/ch_3Test/refunds"},
            "status": "succeeded"
        }),
    )
}

/// `charge.dispute.created` / `.closed` on `pi`; `metadata` is the dispute's own (Stripe leaves
/// it empty unless someone sets it).
pub fn dispute(id: &str, event_type: &str, pi: &str, status: &str, metadata: Value) -> Value {
    event(
        id,
        event_type,
        json!({
            "id": "du_1Test",
            "object": "dispute",
            "amount": 2999,
            "charge": "ch_3Test",
            "created": 1_700_000_100,
            "currency": "usd",
            "evidence_details": {"due_by": 1_700_900_000, "has_evidence": false, "past_due": false, "submission_count": 0},
            "is_charge_refundable": false,
            "livemode": false,
            "metadata": metadata,
            "payment_intent": pi,
            "reason": "fraudulent",
            "status": status
        }),
    )
}
