//! The JSON shapes of orders.

use domain::order::OrderTotals;
use serde_json::{Value, json};

use super::repo::{ItemRow, OrderRow};

/// `{"subtotal", "tax", "shipping", "discount", "total", "currency"}` in integer cents.
pub fn totals_json(t: &OrderTotals) -> Value {
    json!({
        "subtotal": t.subtotal().cents(),
        "tax": t.tax().cents(),
        "shipping": t.shipping().cents(),
        "discount": t.discount().cents(),
        "total": t.total().cents(),
        "currency": t.currency().code(),
    })
}

fn totals_of(o: &OrderRow) -> Value {
    json!({
        "subtotal": o.subtotal_cents,
        "tax": o.tax_cents,
        "shipping": o.shipping_cents,
        "discount": o.discount_cents,
        "total": o.total_cents,
        "currency": o.currency,
    })
}

/// An order as its owner sees it.
pub fn order_json(o: &OrderRow, items: &[ItemRow]) -> Value {
    json!({
        "order_number": o.order_number,
        "status": o.status,
        "payment_status": o.payment_status,
        "fulfillment_status": o.fulfillment_status,
        "disputed": o.disputed,
        "needs_attention": o.needs_attention,
        "customer_email": o.customer_email,
        "customer_name": o.customer_name,
        "shipping_address": o.shipping_address,
        "billing_address": o.billing_address,
        "totals": totals_of(o),
        "amount_paid": o.amount_paid_cents,
        "amount_refunded": o.amount_refunded_cents,
        "items": items.iter().map(item_json).collect::<Vec<_>>(),
        "expires_at": o.expires_at,
        "paid_at": o.paid_at,
        "closed_at": o.closed_at,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    })
}

/// A line.
pub fn item_json(i: &ItemRow) -> Value {
    json!({
        "product_id": i.product_id,
        "sku": i.sku,
        "name": i.name,
        "quantity": i.quantity,
        "unit_price": i.unit_price_cents,
        "line_total": i.line_total_cents,
        "selected_attributes": i.selected_attributes,
    })
}

/// A list entry (no lines, no addresses).
pub fn summary_json(o: &OrderRow) -> Value {
    json!({
        "order_number": o.order_number,
        "status": o.status,
        "payment_status": o.payment_status,
        "fulfillment_status": o.fulfillment_status,
        "totals": totals_of(o),
        "created_at": o.created_at,
    })
}

/// What admins see besides the owner's view.
pub fn admin_json(o: &OrderRow, items: &[ItemRow]) -> Value {
    let mut v = order_json(o, items);
    if let Some(map) = v.as_object_mut() {
        map.insert("id".into(), json!(o.id));
        map.insert("customer_id".into(), json!(o.customer_id));
        map.insert("payment_intent_id".into(), json!(o.payment_intent_id));
        map.insert("attention_reason".into(), json!(o.attention_reason));
    }
    v
}
