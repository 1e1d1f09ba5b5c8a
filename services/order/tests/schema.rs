//! `schema.rs` declares every table of `migrations/order` with exactly its columns.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use order::schema::*;
use testkit::TestDb;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The SELECT of every declared column of a table, as diesel writes it.
macro_rules! select_all {
    ($t:ident) => {
        (stringify!($t), diesel::debug_query::<Pg, _>(&$t::table.select($t::all_columns)).to_string())
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_and_column_is_declared() {
    let db = TestDb::new(order::SCHEMA, order::MIGRATIONS).await;
    let mut conn = db.conn().await;
    let declared = [
        select_all!(outbox),
        select_all!(processed_events),
        select_all!(orders),
        select_all!(order_items),
        select_all!(payments),
        select_all!(payment_status_history),
        select_all!(shipments),
        select_all!(refunds),
        select_all!(disputes),
        select_all!(idempotency_keys),
        select_all!(email_notifications),
        select_all!(payment_ledger),
        select_all!(payment_syncs),
        select_all!(payment_repairs),
    ];
    let tables: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'orders' \
         AND table_name <> '__diesel_schema_migrations'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables.n, i64::try_from(declared.len()).unwrap(), "a table is missing from schema.rs");
    for (table, sql) in declared {
        // Runs: every declared column exists.
        let select = sql.split(" -- binds").next().unwrap().to_owned();
        diesel::sql_query(format!("{select} LIMIT 0"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        // And nothing is left out.
        let declared_columns = select.split(" FROM ").next().unwrap().matches(',').count() + 1;
        let actual: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'orders' AND table_name = $1",
        )
        .bind::<Text, _>(table)
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            i64::try_from(declared_columns).unwrap(),
            actual.n,
            "{table}: columns in schema.rs vs the database"
        );
    }
}
