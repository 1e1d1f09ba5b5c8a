//! `catalog seed --demo`: the seed's three products, idempotently.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::ids::{Sku, Slug};
use domain::money::{Currency, Money};
use domain::product::{NewProduct, ProductStatus};
use serde_json::json;

use crate::bulk::repo;

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

impl Demo {
    /// The demo product as the loaders write it (its fixed SKU and slug are valid).
    fn product(&self) -> anyhow::Result<NewProduct> {
        Ok(NewProduct {
            sku: Sku::parse(self.sku)?,
            name: self.name.to_owned(),
            description: Some(self.description.to_owned()),
            slug: Slug::parse(self.slug)?,
            price: Money::new(self.price_cents, Currency::Usd),
            attributes: self.attributes.clone(),
            stock_quantity: self.stock,
            reserved_quantity: self.reserved,
            status: ProductStatus::Active,
        })
    }
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
                if let Some(id) = repo::insert_if_new(&mut *conn, &p.product()?).await? {
                    crate::events::product_created(&mut *conn, id).await?;
                    count += 1;
                }
            }
            Ok(count)
        })
        .await?;
    Ok(inserted)
}
