//! `schema.rs` declares exactly the tables and columns the migrations create.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use payment_webhook::schema::{outbox, stripe_events};
use testkit::{SchemaCheck, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_rs_declares_exactly_what_the_migrations_create() {
    let db = TestDb::new("payments", payment_webhook::MIGRATIONS).await;
    SchemaCheck::new()
        .table::<stripe_events::table>("stripe_events")
        .table::<outbox::table>("outbox")
        .assert_matches(&db)
        .await;
}
