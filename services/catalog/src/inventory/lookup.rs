//! `POST /internal/v1/products/lookup`: authoritative price and availability for cart and order.

use actix_web::{HttpResponse, web};
use diesel::sql_types::{Array, BigInt, Integer, Text};
use diesel::{QueryResult, QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::{ProductId, Sku};
use domain::inventory::{LookupRequest, LookupResponse};
use domain::money::Money;
use domain::product::{Availability, ProductStatus, ProductSummary};
use platform::auth::InternalCaller;
use platform::http::{ApiError, Json, ValidationErrors};

use crate::state::AppState;

/// Most ids in one look-up.
pub const MAX_IDS: usize = 100;

/// A product's sale facts: what the look-up answers and why a reserve was refused.
#[derive(QueryableByName)]
pub struct SaleFacts {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    sku: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    price_cents: i64,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Integer)]
    stock_quantity: i32,
    #[diesel(sql_type = Integer)]
    reserved_quantity: i32,
}

/// The sale facts of the non-deleted products among `ids`, in no particular order.
pub async fn sale_facts(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<SaleFacts>> {
    sale_facts_by(conn, ids, &[]).await
}

/// The sale facts of the non-deleted products whose id is in `ids` or SKU in `skus`.
pub async fn sale_facts_by(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    skus: &[String],
) -> QueryResult<Vec<SaleFacts>> {
    sql_query(
        "SELECT id, sku, name, price_cents, currency::text AS currency, status, stock_quantity, reserved_quantity
         FROM products WHERE (id = ANY($1) OR sku = ANY($2)) AND deleted_at IS NULL",
    )
    .bind::<Array<BigInt>, _>(ids)
    .bind::<Array<Text>, _>(skus)
    .load(conn)
    .await
}

impl SaleFacts {
    /// Whether the product is on sale (`active`).
    pub fn is_active(&self) -> bool {
        self.status == ProductStatus::Active.as_str()
    }

    /// Units that can be reserved now.
    pub fn available(&self) -> i64 {
        Availability::from_stock(i64::from(self.stock_quantity), i64::from(self.reserved_quantity)).quantity
    }

    fn summary(self) -> Result<ProductSummary, ApiError> {
        let available_quantity = self.available();
        Ok(ProductSummary {
            id: ProductId(self.id),
            sku: Sku::parse(&self.sku).map_err(ApiError::internal)?,
            name: self.name,
            price: Money::new(self.price_cents, self.currency.parse().map_err(ApiError::internal)?),
            status: self.status.parse().map_err(ApiError::internal)?,
            available_quantity,
        })
    }
}

/// The handler: reads the primary (prices at checkout must not lag a replica).
pub async fn lookup(
    _: InternalCaller,
    state: web::Data<AppState>,
    Json(req): Json<LookupRequest>,
) -> Result<HttpResponse, ApiError> {
    let asked = req.product_ids.len() + req.skus.len();
    if asked == 0 || asked > MAX_IDS {
        return Err(ApiError::Validation(ValidationErrors::single(
            "product_ids",
            format!("The product ids and SKUs must list between 1 and {MAX_IDS} entries."),
        )));
    }
    let ids: Vec<i64> = req.product_ids.iter().map(|p| p.get()).collect();
    let skus: Vec<String> = req.skus.iter().map(|s| s.as_ref().to_owned()).collect();
    let mut conn = state.pool.get().await?;
    let rows = sale_facts_by(&mut conn, &ids, &skus).await?;
    drop(conn);
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        let summary = row.summary()?;
        found.insert(summary.id.get(), summary);
    }
    let mut body = LookupResponse { data: Vec::new(), missing: Vec::new(), missing_skus: Vec::new() };
    let mut listed = std::collections::HashSet::new();
    for id in req.product_ids {
        match found.get(&id.get()) {
            Some(summary) => {
                if listed.insert(summary.id) {
                    body.data.push(summary.clone());
                }
            }
            None => body.missing.push(id),
        }
    }
    for sku in req.skus {
        match found.values().find(|s| s.sku == sku) {
            Some(summary) => {
                if listed.insert(summary.id) {
                    body.data.push(summary.clone());
                }
            }
            None => body.missing_skus.push(sku),
        }
    }
    Ok(HttpResponse::Ok().json(body))
}
