//! The order answers as documented (schemas only: `view.rs` writes them as JSON values).
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;

/// Totals in cents.
#[derive(ToSchema)]
pub struct OrderTotalsDoc {
    subtotal: i64,
    tax: i64,
    shipping: i64,
    discount: i64,
    total: i64,
    currency: String,
}

/// One line of an order (prices in cents).
#[derive(ToSchema)]
pub struct ItemDoc {
    product_id: i64,
    sku: String,
    name: String,
    quantity: i32,
    unit_price: i64,
    line_total: i64,
    selected_attributes: BTreeMap<String, Value>,
}

/// An order as its owner (or its access token) reads it.
#[derive(ToSchema)]
pub struct OrderDoc {
    order_number: String,
    status: String,
    payment_status: String,
    fulfillment_status: String,
    disputed: bool,
    needs_attention: bool,
    customer_email: String,
    customer_name: String,
    #[schema(value_type = Object)]
    shipping_address: Value,
    #[schema(value_type = Object)]
    billing_address: Value,
    totals: OrderTotalsDoc,
    amount_paid: i64,
    amount_refunded: i64,
    items: Vec<ItemDoc>,
    expires_at: Option<String>,
    paid_at: Option<String>,
    closed_at: Option<String>,
    created_at: String,
    updated_at: String,
}

/// An order in a list.
#[derive(ToSchema)]
pub struct SummaryDoc {
    order_number: String,
    status: String,
    payment_status: String,
    fulfillment_status: String,
    totals: OrderTotalsDoc,
    created_at: String,
}

/// A page of orders, newest first.
#[derive(ToSchema)]
pub struct OrderPageDoc {
    data: Vec<SummaryDoc>,
    next_cursor: Option<String>,
}

/// An order as an admin reads it: the owner's view and the ids behind it.
#[derive(ToSchema)]
pub struct AdminOrderDoc {
    #[serde(flatten)]
    order: OrderDoc,
    id: i64,
    customer_id: Option<String>,
    payment_intent_id: Option<String>,
    attention_reason: Option<String>,
}

/// A refund (amount in cents; `status`: pending, succeeded or failed).
#[derive(ToSchema)]
pub struct RefundDoc {
    id: i64,
    amount: i64,
    status: String,
    stripe_refund_id: Option<String>,
    reason: Option<String>,
}

/// An order with its refunds (admin).
#[derive(ToSchema)]
pub struct AdminOrderWithRefundsDoc {
    #[serde(flatten)]
    order: AdminOrderDoc,
    refunds: Vec<RefundDoc>,
}

/// The answer to a refund: the refund and the order after it.
#[derive(ToSchema)]
pub struct RefundAnswerDoc {
    refund: RefundDoc,
    order: AdminOrderDoc,
}

/// An order in an admin search.
#[derive(ToSchema)]
pub struct AdminSummaryDoc {
    #[serde(flatten)]
    summary: SummaryDoc,
    customer_email: String,
    needs_attention: bool,
    disputed: bool,
}

/// A page of an admin search, newest first.
#[derive(ToSchema)]
pub struct AdminPageDoc {
    data: Vec<AdminSummaryDoc>,
    next_cursor: Option<String>,
}

/// The PaymentIntent a checkout made, for the browser to confirm (Stripe.js).
#[derive(ToSchema)]
pub struct PaymentDoc {
    provider: String,
    payment_intent_id: String,
    client_secret: Option<String>,
    status: String,
}

/// A checkout's answer: the order, its PaymentIntent and the token that reads the order.
#[derive(ToSchema)]
pub struct CheckoutDoc {
    order_number: String,
    status: String,
    payment_status: String,
    totals: OrderTotalsDoc,
    payment: PaymentDoc,
    access_token: String,
    expires_at: String,
}
