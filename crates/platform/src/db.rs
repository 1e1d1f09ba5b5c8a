//! PostgreSQL access: a diesel-async bb8 pool whose connections live in the service's own schema.

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::bb8::{Pool, PooledConnection, RunError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::MigrationHarness;
use futures_util::FutureExt;

/// The pool every service uses.
pub type PgPool = Pool<AsyncPgConnection>;
/// A connection checked out of [`PgPool`].
pub type PgConn<'a> = PooledConnection<'a, AsyncPgConnection>;
/// Error when checking a connection out of the pool.
pub type PoolError = RunError;

/// Errors while preparing the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Could not connect.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[from] ConnectionError),
    /// A statement failed.
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The schema name is not a plain identifier.
    #[error("invalid schema name {0:?}")]
    Schema(String),
}

/// Pool size and time-outs.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Most connections held open.
    pub max_size: u32,
    /// How long a request waits for a free connection.
    pub connect_timeout: Duration,
    /// Server-side cap on any one statement (`statement_timeout`), so a runaway query
    /// cannot hold a pooled connection forever. Migrations use their own connection, without it.
    pub statement_timeout: Duration,
    /// `plan_cache_mode = force_generic_plan` on every connection: a prepared statement is
    /// planned once per connection instead of on every run. PostgreSQL keeps re-planning
    /// ("custom plans") a statement whose generic plan it estimates dearer, which cost the
    /// purchase path 15 % of its database time in planning (docs/adr/0005). Only for pools
    /// whose every statement's best plan does not depend on the values bound.
    pub generic_plans: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            generic_plans: false,
        }
    }
}

fn checked_schema(schema: &str) -> Result<&str, DbError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok { Ok(schema) } else { Err(DbError::Schema(schema.to_owned())) }
}

/// Opens one connection whose `search_path` is `schema, public` (extensions live in public).
pub async fn connect(url: &str, schema: &str) -> Result<AsyncPgConnection, DbError> {
    let schema = checked_schema(schema)?;
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!("SET search_path TO {schema}, public")).await?;
    Ok(conn)
}

/// Builds the service's pool; every connection is set to the service's schema.
pub fn pool(url: &str, schema: &str, options: PoolOptions) -> Result<PgPool, DbError> {
    let schema = checked_schema(schema)?.to_owned();
    let mut setup = format!("SET statement_timeout = {}", options.statement_timeout.as_millis());
    if options.generic_plans {
        setup.push_str("; SET plan_cache_mode = force_generic_plan");
    }
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.custom_setup = Box::new(move |url| {
        let schema = schema.clone();
        let setup = setup.clone();
        let url = url.to_owned();
        async move {
            let mut conn = connect(&url, &schema).await.map_err(|e| match e {
                DbError::Connect(c) => c,
                other => ConnectionError::BadConnection(other.to_string()),
            })?;
            conn.batch_execute(&setup).await.map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    // Build lazily: a service must start (and report not-ready) while PostgreSQL is down.
    Ok(Pool::builder()
        .max_size(options.max_size)
        .connection_timeout(options.connect_timeout)
        .test_on_check_out(false)
        .build_unchecked(manager))
}

/// Creates the schema if needed and runs the embedded migrations inside it.
///
/// The migrations table lives in the service's schema, so services sharing one
/// database keep separate migration histories.
pub async fn migrate(
    url: &str,
    schema: &str,
    migrations: impl diesel::migration::MigrationSource<diesel::pg::Pg> + Send,
) -> Result<usize, DbError> {
    let schema = checked_schema(schema)?;
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}, public"))
        .await?;
    let mut harness = diesel_async::AsyncMigrationHarness::new(conn);
    let applied =
        harness.run_pending_migrations(migrations).map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied.len())
}

/// Whether a query failed because the database went away or was briefly unable to answer (the
/// connection was lost or terminated, the server is restarting, a statement timed out, a
/// deadlock or serialization failure): the request may simply be retried, so it is a 503, not a
/// 500. Decided from the error kind and, for server errors diesel does not classify, their text.
pub fn is_transient(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    const PHRASES: [&str; 8] = [
        "terminating connection",
        "the database system is",
        "canceling statement due to",
        "deadlock detected",
        "could not serialize access",
        "connection closed",
        "server closed the connection",
        "too many clients",
    ];
    match e {
        E::DatabaseError(K::UnableToSendCommand | K::ClosedConnection | K::SerializationFailure, _)
        | E::BrokenTransactionManager => true,
        E::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            PHRASES.iter().any(|p| message.contains(p))
        }
        _ => false,
    }
}

#[cfg(test)]
mod transient_tests {
    use diesel::result::{DatabaseErrorKind as K, Error as E};

    use super::is_transient;

    fn db(kind: K, message: &str) -> E {
        E::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn lost_connections_and_restarts_are_transient_constraint_errors_are_not() {
        assert!(is_transient(&db(K::UnableToSendCommand, "connection closed")));
        assert!(is_transient(&db(K::ClosedConnection, "")));
        assert!(is_transient(&db(K::Unknown, "terminating connection due to administrator command")));
        assert!(is_transient(&db(K::Unknown, "the database system is starting up")));
        assert!(is_transient(&db(K::Unknown, "canceling statement due to statement timeout")));
        assert!(is_transient(&E::BrokenTransactionManager));
        assert!(!is_transient(&db(K::UniqueViolation, "duplicate key value violates unique constraint")));
        assert!(!is_transient(&db(K::Unknown, "syntax error at or near")));
        assert!(!is_transient(&E::NotFound));
    }
}
