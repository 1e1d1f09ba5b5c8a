//! The cart's error answers: the platform's shapes, plus the two 409 bodies of the contract
//! (`{"error":"Insufficient stock","available":N}` and `{"error":"Checkout in progress"}`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use platform::clients::catalog::CatalogError;
use platform::http::{ApiError, ValidationErrors};
use serde_json::json;

use super::reserve::HoldError;
use super::store::StoreError;

/// Everything a cart route can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// One of the platform's errors.
    #[error("{0}")]
    Api(ApiError),
    /// Catalog has fewer units than asked; nothing changed.
    #[error("insufficient stock ({available} available)")]
    Insufficient {
        /// Units available.
        available: i64,
    },
    /// A checkout holds the cart.
    #[error("checkout in progress")]
    CheckoutInProgress,
}

impl CartError {
    /// 503: catalog did not answer; nothing was changed.
    pub fn catalog_unavailable(detail: &str) -> Self {
        tracing::warn!(error = detail, "catalog call failed");
        CartError::Api(ApiError::Unavailable("The catalog is unavailable; nothing was changed".to_owned()))
    }

    /// 422 on one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CartError::Api(ApiError::Validation(ValidationErrors::single(field, message)))
    }
}

impl From<ApiError> for CartError {
    fn from(e: ApiError) -> Self {
        CartError::Api(e)
    }
}

impl From<StoreError> for CartError {
    fn from(e: StoreError) -> Self {
        CartError::Api(e.into())
    }
}

impl From<CatalogError> for CartError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Insufficient { available } => CartError::Insufficient { available },
            other => CartError::catalog_unavailable(&other.to_string()),
        }
    }
}

impl From<HoldError> for CartError {
    fn from(e: HoldError) -> Self {
        match e {
            HoldError::Insufficient { available } => CartError::Insufficient { available },
            HoldError::UnknownProduct => CartError::invalid("product_id", "No product with this id."),
            HoldError::Unavailable(detail) => CartError::catalog_unavailable(&detail),
        }
    }
}

impl ResponseError for CartError {
    fn status_code(&self) -> StatusCode {
        match self {
            CartError::Api(e) => e.status_code(),
            CartError::Insufficient { .. } | CartError::CheckoutInProgress => StatusCode::CONFLICT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            CartError::Api(e) => e.error_response(),
            CartError::Insufficient { available } => {
                ApiError::insufficient_stock(*available, format!("Only {available} unit(s) available"))
                    .error_response()
            }
            CartError::CheckoutInProgress => HttpResponse::Conflict().json(json!({
                "error": "Checkout in progress",
                "message": "The cart is being checked out; it cannot change until that ends",
            })),
        }
    }
}
