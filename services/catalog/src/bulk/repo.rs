//! The bulk loads' SQL: the multi-row upsert by SKU, the demo products' insert, the session
//! settings of a load, and dropping and rebuilding the GIN indexes around an initial load.

use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text};
use diesel::{OptionalExtension, QueryResult, QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use super::NewProduct;
use crate::schema::products;

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// New SKUs.
    pub inserted: u64,
    /// Existing SKUs whose fields changed.
    pub updated: u64,
    /// Existing SKUs already exactly as given (not rewritten).
    pub unchanged: u64,
}

impl UpsertCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: UpsertCounts) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// A row of expressions: whether the upsert inserted the row (`xmax = 0`).
#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

/// `unnest` turns ten arrays into rows, so the statement has ten parameters however many rows
/// it carries. On an existing SKU every field is replaced except `reserved_quantity`, which
/// belongs to live reservations (docs/adr/0020); rows that would not change are skipped, so a
/// repeated load rewrites nothing. `deleted_at` is left alone: an import never resurrects.
const UPSERT: &str = "\
INSERT INTO products (sku, name, description, slug, price_cents, currency, attributes, \
                      stock_quantity, reserved_quantity, status)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], \
                     $7::jsonb[], $8::int4[], $9::int4[], $10::text[])
ON CONFLICT (sku) DO UPDATE SET
    name = EXCLUDED.name, description = EXCLUDED.description, slug = EXCLUDED.slug,
    price_cents = EXCLUDED.price_cents, currency = EXCLUDED.currency,
    attributes = EXCLUDED.attributes, stock_quantity = EXCLUDED.stock_quantity,
    status = EXCLUDED.status
WHERE (products.name, products.description, products.slug, products.price_cents, products.currency,
       products.attributes, products.stock_quantity, products.status)
      IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.description, EXCLUDED.slug, EXCLUDED.price_cents, EXCLUDED.currency,
       EXCLUDED.attributes, EXCLUDED.stock_quantity, EXCLUDED.status)
RETURNING (xmax = 0) AS inserted";

/// Upserts `rows` by SKU in one statement. The SKUs must be distinct (PostgreSQL refuses to
/// update one row twice in a statement); a slug clash fails the whole statement.
pub async fn upsert_batch(conn: &mut AsyncPgConnection, rows: &[NewProduct]) -> QueryResult<UpsertCounts> {
    if rows.is_empty() {
        return Ok(UpsertCounts::default());
    }
    // sql_query: unnest bulk upsert (ten arrays, however many rows) returning `xmax = 0`.
    let written: Vec<Written> = sql_query(UPSERT)
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.description.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.price.cents()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.price.currency().code()).collect::<Vec<_>>())
        .bind::<Array<Jsonb>, _>(rows.iter().map(|r| &r.attributes).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(rows.iter().map(|r| r.stock_quantity).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(rows.iter().map(|r| r.reserved_quantity).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .load(conn)
        .await?;
    let inserted = written.iter().filter(|w| w.inserted).count() as u64;
    let updated = written.len() as u64 - inserted;
    Ok(UpsertCounts { inserted, updated, unchanged: rows.len() as u64 - written.len() as u64 })
}

/// Inserts `p` unless its SKU exists; the new product's id, or `None` when it was there.
pub async fn insert_if_new(conn: &mut AsyncPgConnection, p: &NewProduct) -> QueryResult<Option<i64>> {
    diesel::insert_into(products::table)
        .values(crate::admin::repo::ProductInsert::from(p))
        .on_conflict(products::sku)
        .do_nothing()
        .returning(products::id)
        .get_result(conn)
        .await
        .optional()
}

/// Session settings for a bulk-load connection.
///
/// `synchronous_commit = off`: a batch's commit does not wait for its WAL flush. A crash can
/// lose the last few batches, never corrupt anything, and both loaders are idempotent upserts
/// meant to be re-run; the setting is local to this session, other writers keep full
/// durability. A larger `gin_pending_list_limit` lets GIN indexes (attributes, trigram search)
/// buffer more rows before merging them, which is where bulk inserts spend their time.
pub async fn tune_for_bulk_load(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("SET synchronous_commit = off; SET gin_pending_list_limit = '32MB'").await
}

// `--defer-gin-indexes`: drop the products table's GIN indexes before a large initial load and
// build them again after it. Building a GIN index once over a million rows is several times
// cheaper than maintaining it row by row (the trigram indexes on name and description dominate
// insert time). While they are gone, searches scan the table: for loads into a catalog nobody
// is browsing yet.

/// A dropped index: its name and the statement that makes it again (a row of expressions
/// over the system catalogs).
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
    // sql_query: reads the system catalogs (pg_index, pg_class, pg_am), which schema.rs does not
    // declare.
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
