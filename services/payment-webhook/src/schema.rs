//! Diesel table definitions of every table the payment-webhook migrations create
//! (migrations/payment-webhook). `tests/schema.rs` fails when this file and the migrations disagree.

diesel::table! {
    /// Every verified Stripe event, keyed (and deduplicated) by Stripe's event id.
    stripe_events (id) {
        /// `evt_...`.
        id -> Text,
        /// e.g. `payment_intent.succeeded`.
        #[sql_name = "type"]
        event_type -> Text,
        /// Stripe's `created`.
        created -> Timestamptz,
        /// Stripe's API version of the payload.
        api_version -> Nullable<Text>,
        /// Live or test mode.
        livemode -> Bool,
        /// The event as received.
        payload -> Jsonb,
        /// The resolved order.
        order_id -> Nullable<Int8>,
        /// `pi_...`, when the object names one.
        payment_intent_id -> Nullable<Text>,
        /// The `payment.*` event written to the outbox.
        published_type -> Nullable<Text>,
        /// Why it was stored but not published.
        flags -> Array<Text>,
        /// When it arrived.
        received_at -> Timestamptz,
    }
}

platform::outbox_table!();
