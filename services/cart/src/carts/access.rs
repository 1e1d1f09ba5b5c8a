//! Who is asking, and which carts they may touch: a customer their own cart (JWT subject), a
//! guest the cart their token opens. Anything else is 404, never 403, so ids do not leak.
//! A signed-in request that still carries a guest token merges that guest cart first.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use domain::ids::CartId;
use platform::auth::{MaybePrincipal, Principal};
use platform::http::ApiError;

use super::model::{Cart, Owner};
use super::token;

/// The caller of a public cart route.
#[derive(Debug, Clone)]
pub struct Requester {
    /// The signed-in customer, if a valid bearer token came (an invalid one is 401).
    pub principal: Option<Principal>,
    /// `X-Cart-Token`, if sent.
    pub token: Option<String>,
}

impl FromRequest for Requester {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(token::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .map(str::to_owned);
        // Verifying may fetch the identity provider's keys (JWKS).
        let verifying = MaybePrincipal::from_request(req, payload);
        Box::pin(async move {
            let MaybePrincipal(principal) = verifying.await?;
            Ok(Requester { principal, token })
        })
    }
}

impl Requester {
    /// Whether this caller owns `cart`.
    pub fn owns(&self, cart: &Cart) -> bool {
        match &cart.owner {
            Owner::Customer(sub) => self.principal.as_ref().is_some_and(|p| &p.subject == sub),
            Owner::Guest(hash) => self.token.as_deref().is_some_and(|t| platform::token::verify_hex(t, hash)),
        }
    }
}

/// The 404 every "not yours" and "not there" gets.
pub fn not_found() -> ApiError {
    ApiError::not_found("No cart with this id")
}

/// A cart id from the path; anything unparsable is a cart that does not exist.
pub fn cart_id(raw: &str) -> Result<CartId, ApiError> {
    raw.parse().map_err(|_| not_found())
}

/// A line id from the path.
pub fn line_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found("No item with this id in the cart"))
}
