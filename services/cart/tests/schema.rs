//! `schema.rs` declares exactly the tables and columns the migrations create (the outbox and
//! `processed_events` included).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use cart::schema::{cart_items, carts, outbox, processed_events};
use testkit::{SchemaCheck, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_rs_declares_exactly_what_the_migrations_create() {
    let db = TestDb::new(cart::SCHEMA, cart::MIGRATIONS).await;
    SchemaCheck::new()
        .table::<carts::table>("carts")
        .table::<cart_items::table>("cart_items")
        .table::<outbox::table>("outbox")
        .table::<processed_events::table>("processed_events")
        .assert_matches(&db)
        .await;
}
