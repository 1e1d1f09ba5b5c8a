//! How a checkout attempt fails, and the answers its dependencies' failures become.

use platform::clients::cart::CartError;
use platform::clients::catalog::CatalogError;
use platform::http::ApiError;

use crate::clients::Unavailable;

/// How a checkout attempt failed.
pub enum Failure {
    /// Nothing was made that names an order: forget the key, unlock the cart.
    Before(ApiError),
    /// The order exists; a retry with the same key will carry on.
    After(ApiError),
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Before(e.into())
    }
}

/// 503 naming the service, with the retry advice (logged, without secrets).
pub fn unavailable(e: &Unavailable) -> ApiError {
    tracing::warn!(error = %e, "checkout dependency failed");
    ApiError::Unavailable(format!(
        "The {} service is unavailable; retry with the same Idempotency-Key",
        e.service
    ))
}

/// A catalog failure that is not about stock: 503.
pub fn catalog_failed(e: CatalogError) -> Failure {
    Failure::Before(unavailable(&Unavailable::new("catalog", e)))
}

/// A cart lock that failed.
pub fn cart_failed(e: CartError) -> Failure {
    Failure::Before(match e {
        CartError::NotFound => ApiError::not_found("No cart with this id"),
        CartError::Locked => ApiError::conflict("Checkout in progress"),
        CartError::Unavailable(u) => unavailable(&u.into()),
    })
}

/// 409 `Insufficient stock` for `sku`.
pub fn out_of_stock(sku: &str, available: i64) -> Failure {
    Failure::Before(ApiError::insufficient_stock(
        available,
        format!("{sku}: only {available} unit(s) available"),
    ))
}
