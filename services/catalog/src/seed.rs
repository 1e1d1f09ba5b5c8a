//! `catalog seed --demo`: the seed's three products, idempotently.

use diesel::sql_types::{BigInt, Integer, Jsonb, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

/// One demo product.
struct Demo {
    sku: &'static str,
    name: &'static str,
    description: &'static str,
    slug: &'static str,
    price_cents: i64,
    attributes: serde_json::Value,
    stock: i32,
    reserved: i32,
}

fn demo_products() -> Vec<Demo> {
    vec![
        Demo {
            sku: "TSHIRT-BLK-M",
            name: "Premium Cotton T-Shirt - Black",
            description: "Soft, breathable cotton t-shirt perfect for everyday wear.",
            slug: "premium-cotton-tshirt-black",
            price_cents: 2999,
            attributes: json!({"category": "clothing", "color": "black", "size": "M", "material": "cotton"}),
            stock: 150,
            reserved: 5,
        },
        Demo {
            sku: "JEANS-DNM-32",
            name: "Classic Denim Jeans",
            description: "Timeless denim jeans with a comfortable fit.",
            slug: "classic-denim-jeans",
            price_cents: 7999,
            attributes: json!({"category": "clothing", "color": "blue", "size": "32", "material": "denim"}),
            stock: 85,
            reserved: 0,
        },
        Demo {
            sku: "SNKR-RUN-10",
            name: "Performance Running Shoes",
            description: "Lightweight running shoes designed for speed and comfort.",
            slug: "performance-running-shoes",
            price_cents: 12999,
            attributes: json!({"category": "footwear", "color": "white", "size": "10", "material": "mesh"}),
            stock: 42,
            reserved: 3,
        },
    ]
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Inserts the demo products that are not there yet (by sku) in one transaction, each with its
/// `product.created` outbox event; returns how many were inserted.
///
/// All rows share one `created_at` (the transaction's `now()`), as the seed's did within a second,
/// so the default listing shows them in id order.
pub async fn seed_demo(conn: &mut AsyncPgConnection) -> anyhow::Result<usize> {
    let inserted = conn
        .transaction::<_, anyhow::Error, _>(async |conn| {
            let mut count = 0;
            for p in demo_products() {
                let rows: Vec<Inserted> = sql_query(
                    "INSERT INTO products (sku, name, description, slug, price_cents, currency, attributes, \
                         stock_quantity, reserved_quantity, status) \
                         VALUES ($1, $2, $3, $4, $5, 'USD', $6, $7, $8, 'active') \
                         ON CONFLICT (sku) DO NOTHING RETURNING id",
                )
                .bind::<Text, _>(p.sku)
                .bind::<Text, _>(p.name)
                .bind::<Text, _>(p.description)
                .bind::<Text, _>(p.slug)
                .bind::<BigInt, _>(p.price_cents)
                .bind::<Jsonb, _>(&p.attributes)
                .bind::<Integer, _>(p.stock)
                .bind::<Integer, _>(p.reserved)
                .load(&mut *conn)
                .await?;
                for row in rows {
                    crate::events::product_created(&mut *conn, row.id).await?;
                    count += 1;
                }
            }
            Ok(count)
        })
        .await?;
    Ok(inserted)
}
