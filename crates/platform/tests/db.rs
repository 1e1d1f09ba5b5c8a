//! The PostgreSQL plumbing: schema-scoped pools and migrations, and the statement time-out.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use platform::db::{self, PoolOptions};
use testkit::TestDb;

const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("tests/migrations");

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = Text)]
    v: String,
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_connections_live_in_the_service_schema_with_a_statement_timeout() {
    let db = TestDb::new("sample", MIGRATIONS).await;
    let options = PoolOptions { statement_timeout: Duration::from_millis(200), ..PoolOptions::default() };
    let pool = db::pool(db.url(), "sample", options).unwrap();
    let mut conn = pool.get().await.unwrap();
    let row: One = diesel::sql_query("SELECT current_schema() AS v").get_result(&mut *conn).await.unwrap();
    assert_eq!(row.v, "sample");
    let n: N =
        diesel::sql_query("SELECT count(*) AS n FROM sample_items").get_result(&mut *conn).await.unwrap();
    assert_eq!(n.n, 0, "unqualified names resolve in the service's schema");
    let err = diesel::sql_query("SELECT pg_sleep(2)").execute(&mut *conn).await.unwrap_err();
    assert!(err.to_string().contains("statement timeout"), "{err}");
    // The connection is still usable after a cancelled statement.
    let row: One = diesel::sql_query("SELECT 'ok' AS v").get_result(&mut *conn).await.unwrap();
    assert_eq!(row.v, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_with_generic_plans_plans_prepared_statements_once() {
    let db = TestDb::new("sample", MIGRATIONS).await;
    for (generic, want) in [(false, "auto"), (true, "force_generic_plan")] {
        let options = PoolOptions { generic_plans: generic, ..PoolOptions::default() };
        let pool = db::pool(db.url(), "sample", options).unwrap();
        let mut conn = pool.get().await.unwrap();
        let row: One = diesel::sql_query("SELECT current_setting('plan_cache_mode') AS v")
            .get_result(&mut *conn)
            .await
            .unwrap();
        assert_eq!(row.v, want, "generic_plans: {generic}");
        let row: One = diesel::sql_query("SELECT current_setting('statement_timeout') AS v")
            .get_result(&mut *conn)
            .await
            .unwrap();
        assert_eq!(row.v, "30s", "the other settings stay");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_keep_their_history_in_the_schema_and_are_idempotent() {
    let db = TestDb::new("sample", MIGRATIONS).await;
    assert_eq!(db::migrate(db.url(), "sample", MIGRATIONS).await.unwrap(), 0, "the template is migrated");
    // A second service migrating into its own schema of the same database keeps its own history.
    let all = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).unwrap().len();
    assert_eq!(db::migrate(db.url(), "othersvc", MIGRATIONS).await.unwrap(), all);
    let mut conn = db::connect(db.url(), "sample").await.unwrap();
    let n: N = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables \
         WHERE table_name = '__diesel_schema_migrations' AND table_schema IN ('sample', 'othersvc')",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(n.n, 2);
    let public: N = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(public.n, 0, "nothing lands in public");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_names_are_checked() {
    let err =
        db::pool("postgres://postgres@127.0.0.1/x", "bad; DROP TABLE x", PoolOptions::default()).unwrap_err();
    assert!(err.to_string().contains("invalid schema name"));
}
