//! `POST /internal/v1/products/lookup`: authoritative price and availability for cart and order.

use actix_web::{HttpResponse, web};
use domain::ids::{ProductId, Sku};
use domain::inventory::{LookupRequest, LookupResponse};
use domain::money::Money;
use domain::product::ProductSummary;
use platform::auth::InternalCaller;
use platform::http::{ApiError, Json, ValidationErrors};

use super::repo::{SaleFacts, sale_facts_by};
use crate::state::AppState;

/// Most ids in one look-up.
pub const MAX_IDS: usize = 100;

impl SaleFacts {
    fn summary(self) -> Result<ProductSummary, ApiError> {
        let available_quantity = self.available();
        Ok(ProductSummary {
            id: ProductId(self.id),
            sku: Sku::parse(&self.sku).map_err(ApiError::internal)?,
            name: self.name,
            price: Money::new(self.price_cents, self.currency.parse().map_err(ApiError::internal)?),
            status: self.status.parse().map_err(ApiError::internal)?,
            available_quantity,
            attributes: match self.attributes {
                serde_json::Value::Object(m) => m,
                _ => serde_json::Map::new(),
            },
        })
    }
}

/// The handler: reads the primary (prices at checkout must not lag a replica).
#[utoipa::path(post, path = "/internal/v1/products/lookup", operation_id = "lookup_products", tag = "internal",
    security(("internal" = [])), request_body = domain::inventory::LookupRequest,
    responses((status = 200, description = "Prices and availability", body = domain::inventory::LookupResponse),
        (status = 422, description = "None or more than 100 asked", body = platform::openapi::ValidationErrorBody)))]
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
