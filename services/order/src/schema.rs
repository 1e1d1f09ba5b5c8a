//! Diesel table definitions for every table of `migrations/order` (schema `orders`).
//! The statements are diesel's DSL over these (docs/adr/0005), so a renamed or retyped column
//! breaks the build; `tests/schema.rs` compares them with the migrated database.
#![allow(missing_docs)]

platform::outbox_table!();
platform::processed_events_table!();

diesel::table! {
    orders (id) {
        id -> Int8,
        order_number -> Varchar,
        access_token_hash -> Bytea,
        customer_id -> Nullable<Text>,
        customer_email -> Text,
        customer_name -> Text,
        shipping_address -> Jsonb,
        billing_address -> Jsonb,
        cart_id -> Nullable<Uuid>,
        currency -> Bpchar,
        subtotal_cents -> Int8,
        tax_cents -> Int8,
        shipping_cents -> Int8,
        discount_cents -> Int8,
        total_cents -> Int8,
        status -> Text,
        payment_status -> Text,
        fulfillment_status -> Text,
        payment_intent_id -> Nullable<Text>,
        amount_paid_cents -> Int8,
        amount_refunded_cents -> Int8,
        disputed -> Bool,
        needs_attention -> Bool,
        attention_reason -> Nullable<Text>,
        traceparent -> Nullable<Text>,
        expires_at -> Timestamptz,
        paid_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        payment_synced_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    order_items (id) {
        id -> Int8,
        order_id -> Int8,
        product_id -> Int8,
        sku -> Varchar,
        name -> Text,
        quantity -> Int4,
        unit_price_cents -> Int8,
        line_total_cents -> Int8,
        selected_attributes -> Jsonb,
        reservation_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    payments (id) {
        id -> Int8,
        order_id -> Int8,
        payment_intent_id -> Text,
        amount_cents -> Int8,
        currency -> Bpchar,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    payment_status_history (id) {
        id -> Int8,
        order_id -> Int8,
        payment_intent_id -> Text,
        event_type -> Text,
        stripe_event_id -> Nullable<Text>,
        from_status -> Text,
        to_status -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    shipments (order_id) {
        order_id -> Int8,
        carrier -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        fulfilled_at -> Nullable<Timestamptz>,
        shipped_at -> Nullable<Timestamptz>,
        delivered_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refunds (id) {
        id -> Int8,
        order_id -> Int8,
        amount_cents -> Int8,
        status -> Text,
        reason -> Nullable<Text>,
        stripe_refund_id -> Nullable<Text>,
        idempotency_key -> Text,
        requested_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    disputes (id) {
        id -> Int8,
        order_id -> Int8,
        dispute_id -> Text,
        payment_intent_id -> Text,
        amount_cents -> Int8,
        currency -> Bpchar,
        status -> Text,
        opened_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Bytea,
        status -> Text,
        order_id -> Nullable<Int8>,
        access_token -> Text,
        response_status -> Nullable<Int4>,
        response_body -> Nullable<Jsonb>,
        locked_until -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    email_notifications (id) {
        id -> Int8,
        dedupe_key -> Text,
        order_id -> Int8,
        kind -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        sending_since -> Nullable<Timestamptz>,
        sent_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    payment_ledger (order_id, kind, stripe_object_id) {
        order_id -> Int8,
        kind -> Text,
        stripe_object_id -> Text,
        payment_intent_id -> Text,
        amount_cents -> Int8,
        currency -> Bpchar,
        status -> Nullable<Text>,
        recorded_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    payment_syncs (order_id) {
        order_id -> Int8,
        requested_at -> Timestamptz,
        due_at -> Timestamptz,
        attempts -> Int4,
        reason -> Text,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    payment_repairs (id) {
        id -> Int8,
        order_id -> Int8,
        origin -> Text,
        field -> Text,
        before_value -> Text,
        after_value -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(order_items -> orders (order_id));
diesel::joinable!(payment_ledger -> orders (order_id));
diesel::joinable!(payment_syncs -> orders (order_id));
diesel::joinable!(payment_repairs -> orders (order_id));
diesel::joinable!(payments -> orders (order_id));
diesel::joinable!(payment_status_history -> orders (order_id));
diesel::joinable!(shipments -> orders (order_id));
diesel::joinable!(refunds -> orders (order_id));
diesel::joinable!(disputes -> orders (order_id));
diesel::joinable!(email_notifications -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    outbox,
    processed_events,
    orders,
    order_items,
    payments,
    payment_status_history,
    shipments,
    refunds,
    disputes,
    idempotency_keys,
    email_notifications,
    payment_ledger,
    payment_syncs,
    payment_repairs,
);
