//! The admin API (`/api/v1/admin/products`, role `admin`): every write is one transaction with
//! its outbox event, then the cache version bump, then the answer.

pub mod input;
pub mod repo;
pub mod response;

use actix_web::{HttpResponse, web};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::Admin;
use platform::db::PgConn;
use platform::http::{ApiError, Json};

use crate::events;
use crate::state::AppState;
use input::{CreateBody, StockBody, StockChange, UpdateBody};
use response::AdminProduct;

/// What can go wrong inside a write transaction.
#[derive(Debug)]
pub enum WriteError {
    /// An answer for the client (404, 409).
    Api(ApiError),
    /// A database error (unique violations become 409s).
    Db(DieselError),
    /// Anything else (event encoding): a 500.
    Other(anyhow::Error),
}

impl From<DieselError> for WriteError {
    fn from(e: DieselError) -> Self {
        WriteError::Db(e)
    }
}

impl From<anyhow::Error> for WriteError {
    fn from(e: anyhow::Error) -> Self {
        WriteError::Other(e)
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Api(api) => api,
            WriteError::Db(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                let constraint = info.constraint_name().unwrap_or_default();
                let field = if constraint.contains("slug") || info.message().contains("slug") {
                    "slug"
                } else {
                    "sku"
                };
                ApiError::Conflict {
                    message: format!("Another product already has this {field}"),
                    field: Some(field.to_owned()),
                }
            }
            WriteError::Db(db) => ApiError::internal(db),
            WriteError::Other(other) => ApiError::internal(format!("{other:#}")),
        }
    }
}

fn no_product() -> WriteError {
    WriteError::Api(ApiError::not_found("No product has this id"))
}

/// Product ids start at 1: anything else is a 404 without a database round trip.
fn product_id(path: web::Path<i64>) -> Result<i64, ApiError> {
    let id = path.into_inner();
    if id > 0 { Ok(id) } else { Err(ApiError::not_found("No product has this id")) }
}

/// Runs `$body` in one transaction on the primary (its outbox event included), then
/// [`committed`]. A macro because diesel-async's `transaction` takes an async closure whose
/// higher-ranked type a generic helper cannot name.
macro_rules! write_transaction {
    ($state:expr, |$conn:ident| $body:block) => {{
        let mut pooled = $state.pool.get().await?;
        let db: &mut AsyncPgConnection = &mut pooled;
        let out = db.transaction::<_, WriteError, _>(async |$conn| $body).await?;
        committed(&$state, pooled).await;
        out
    }};
}

/// After a write's commit and before its answer: returns the connection to the pool and bumps
/// the cache version, so the admin's next read sees the change.
async fn committed(state: &AppState, conn: PgConn<'_>) {
    drop(conn);
    state.cache.bump().await;
}

/// `POST /api/v1/admin/products` → 201 with the product.
#[utoipa::path(post, path = "/api/v1/admin/products", operation_id = "admin_create_product", tag = "admin",
    security(("bearer" = [])), request_body = input::CreateBody,
    responses((status = 201, description = "The product", body = response::Wrapped),
        (status = 409, description = "The SKU or slug is taken", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn create(
    _admin: Admin,
    state: web::Data<AppState>,
    body: Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let product = body.0.validate(state.currency).map_err(ApiError::Validation)?;
    let row = write_transaction!(state, |conn| {
        let row = repo::insert(conn, &product).await?;
        events::product_created(conn, row.item.id).await?;
        Ok(row)
    });
    Ok(HttpResponse::Created().json(AdminProduct::wrap(row)))
}

/// `PATCH /api/v1/admin/products/{id}` → 200 with the product.
#[utoipa::path(patch, path = "/api/v1/admin/products/{id}", operation_id = "admin_update_product", tag = "admin",
    security(("bearer" = [])), params(("id" = i64, Path, description = "The product id")), request_body = input::PatchDoc,
    responses((status = 200, description = "The product", body = response::Wrapped),
        (status = 404, description = "No product has this id", body = platform::openapi::ErrorBody),
        (status = 409, description = "The SKU or slug is taken", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn update(
    _admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(id)?;
    let changes = input::validate_update(body.0).map_err(ApiError::Validation)?;
    let row = write_transaction!(state, |conn| {
        let row = repo::update(conn, id, &changes).await?.ok_or_else(no_product)?;
        events::product_updated(conn, row.item.id).await?;
        Ok(row)
    });
    Ok(HttpResponse::Ok().json(AdminProduct::wrap(row)))
}

/// `DELETE /api/v1/admin/products/{id}` → 204 (a soft delete).
#[utoipa::path(delete, path = "/api/v1/admin/products/{id}", operation_id = "admin_delete_product", tag = "admin",
    security(("bearer" = [])), params(("id" = i64, Path, description = "The product id")),
    responses((status = 204, description = "Deleted (soft)"),
        (status = 404, description = "No product has this id", body = platform::openapi::ErrorBody)))]
pub async fn delete(
    _admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(id)?;
    write_transaction!(state, |conn| {
        let (id, sku) = repo::soft_delete(conn, id).await?.ok_or_else(no_product)?;
        events::product_deleted(conn, id, &sku).await?;
        Ok(())
    });
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/admin/products/{id}/stock` with `{"quantity": N}` or `{"delta": N}` → 200.
/// Stock below what is reserved (so also below 0) is a 409: it depends on the current state.
#[utoipa::path(post, path = "/api/v1/admin/products/{id}/stock", operation_id = "admin_set_stock", tag = "admin",
    security(("bearer" = [])), params(("id" = i64, Path, description = "The product id")), request_body = input::StockDoc,
    responses((status = 200, description = "The product", body = response::Wrapped),
        (status = 404, description = "No product has this id", body = platform::openapi::ErrorBody),
        (status = 409, description = "Stock would go below what is reserved", body = platform::openapi::ErrorBody),
        (status = 422, description = "Not exactly one of quantity and delta", body = platform::openapi::ValidationErrorBody)))]
pub async fn stock(
    _admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<StockBody>,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(id)?;
    let change = body.0.validate().map_err(ApiError::Validation)?;
    let row = write_transaction!(state, |conn| {
        let Some(row) = repo::change_stock(conn, id, change).await? else {
            let current = repo::find(conn, id).await?.ok_or_else(no_product)?;
            return Err(WriteError::Api(stock_conflict(&current, change)));
        };
        events::inventory_changed(conn, row.item.id).await?;
        Ok(row)
    });
    Ok(HttpResponse::Ok().json(AdminProduct::wrap(row)))
}

fn stock_conflict(current: &repo::AdminRow, change: StockChange) -> ApiError {
    let (field, message) = match change {
        StockChange::Adjust(d) if d > 0 => ("delta", format!("Stock cannot exceed {} units", i32::MAX)),
        StockChange::Adjust(_) => (
            "delta",
            format!(
                "Stock cannot go below the {} reserved unit(s) (stock is {})",
                current.item.reserved_quantity, current.item.stock_quantity
            ),
        ),
        StockChange::Set(_) => (
            "quantity",
            format!("Stock cannot go below the {} reserved unit(s)", current.item.reserved_quantity),
        ),
    };
    ApiError::Conflict { message, field: Some(field.to_owned()) }
}
