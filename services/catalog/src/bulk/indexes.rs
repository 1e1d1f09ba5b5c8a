//! `--defer-gin-indexes`: drop the products table's GIN indexes before a large initial load and
//! build them again after it. Building a GIN index once over a million rows is several times
//! cheaper than maintaining it row by row (the trigram indexes on name and description dominate
//! insert time). While they are gone, searches scan the table: for loads into a catalog nobody
//! is browsing yet.

use diesel::sql_types::Text;
use diesel::{QueryResult, QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// A dropped index: its name and the statement that makes it again.
#[derive(Debug, Clone, QueryableByName)]
pub struct DroppedIndex {
    /// The index name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// `CREATE INDEX ...` as PostgreSQL prints it (schema-qualified).
    #[diesel(sql_type = Text)]
    pub definition: String,
}

/// Drops every GIN index on `products`, telling `report` how to make each again first (so an
/// interrupted load can be repaired by hand), and returns them.
pub async fn drop_gin_indexes(
    conn: &mut AsyncPgConnection,
    report: &mut dyn FnMut(&DroppedIndex),
) -> QueryResult<Vec<DroppedIndex>> {
    let indexes: Vec<DroppedIndex> = sql_query(
        "SELECT c.relname::text AS name, pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
         WHERE i.indrelid = 'products'::regclass AND a.amname = 'gin' ORDER BY c.relname",
    )
    .load(conn)
    .await?;
    for index in &indexes {
        report(index);
        conn.batch_execute(&format!("DROP INDEX IF EXISTS \"{}\"", index.name.replace('"', "\"\""))).await?;
    }
    Ok(indexes)
}

/// Builds the dropped indexes again, with enough memory to build each in one pass.
pub async fn rebuild(conn: &mut AsyncPgConnection, indexes: &[DroppedIndex]) -> QueryResult<()> {
    conn.batch_execute("SET maintenance_work_mem = '256MB'").await?;
    for index in indexes {
        conn.batch_execute(&index.definition).await?;
    }
    Ok(())
}
