//! The diesel `table!` declarations of the tables platform's events own, for a service's
//! `schema.rs`: every service migrates the same `outbox` (and, with consumers,
//! `processed_events`) into its own schema, so the declarations are written once, here.
//! The service's schema test (`testkit::SchemaCheck`) still checks them against its migrations.

/// Declares the `outbox` table (`platform::outbox_table!();` in a service's `schema.rs`).
#[macro_export]
macro_rules! outbox_table {
    () => {
        diesel::table! {
            /// The transactional outbox (written by `platform::events::enqueue`, read by the relay).
            outbox (id) {
                /// The envelope id.
                id -> Uuid,
                /// Routing key.
                event_type -> Text,
                /// The whole envelope.
                payload -> Jsonb,
                /// traceparent / tracestate.
                headers -> Jsonb,
                /// When it was written.
                created_at -> Timestamptz,
                /// When the broker confirmed it.
                published_at -> Nullable<Timestamptz>,
                /// Failed publish attempts.
                attempts -> Int4,
                /// The last publish error.
                last_error -> Nullable<Text>,
            }
        }
    };
}

/// Declares the `processed_events` table, the consumers' dedupe key
/// (`platform::processed_events_table!();` in a service's `schema.rs`).
#[macro_export]
macro_rules! processed_events_table {
    () => {
        diesel::table! {
            /// Events a consumer has handled, written with the handler's effect.
            processed_events (consumer, event_id) {
                /// The consumer's name.
                consumer -> Text,
                /// The envelope id.
                event_id -> Uuid,
                /// When it was handled.
                processed_at -> Timestamptz,
            }
        }
    };
}

/// The same tables for platform's own statements (the connection's `search_path` names the
/// service's schema, so they are the service's tables).
pub(crate) mod schema {
    crate::outbox_table!();
    crate::processed_events_table!();
}
