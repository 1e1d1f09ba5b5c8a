//! `schema.rs` declares exactly the tables and columns the migrations create.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use order::schema::*;
use testkit::{SchemaCheck, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_rs_declares_exactly_what_the_migrations_create() {
    let db = TestDb::new(order::SCHEMA, order::MIGRATIONS).await;
    SchemaCheck::new()
        .table::<outbox::table>("outbox")
        .table::<processed_events::table>("processed_events")
        .table::<orders::table>("orders")
        .table::<order_items::table>("order_items")
        .table::<payments::table>("payments")
        .table::<payment_status_history::table>("payment_status_history")
        .table::<shipments::table>("shipments")
        .table::<refunds::table>("refunds")
        .table::<disputes::table>("disputes")
        .table::<idempotency_keys::table>("idempotency_keys")
        .table::<email_notifications::table>("email_notifications")
        .table::<payment_ledger::table>("payment_ledger")
        .table::<payment_syncs::table>("payment_syncs")
        .table::<payment_repairs::table>("payment_repairs")
        .assert_matches(&db)
        .await;
}
