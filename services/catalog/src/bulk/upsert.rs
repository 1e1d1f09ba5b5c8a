//! The multi-row upsert by SKU that both bulk loaders use.

use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text};
use diesel::{QueryResult, QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::NewProduct;

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
