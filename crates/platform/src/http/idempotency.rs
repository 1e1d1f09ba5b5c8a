//! The `Idempotency-Key` header, one rule for every route that takes one (checkout, refunds):
//! required, 1 to 255 visible ASCII characters, as Stripe's own keys. A route that must not
//! run twice takes [`IdempotencyKey`]; a request without one gets 400, never a made-up key.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::error::ApiError;

/// The header's name.
pub const HEADER: &str = "idempotency-key";
/// The longest key.
pub const MAX_LEN: usize = 255;

/// A checked `Idempotency-Key` (surrounding spaces trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    /// The key of `req`: missing, empty, too long or not visible ASCII → 400.
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let Some(raw) = req.headers().get(HEADER) else {
            return Err(ApiError::BadRequest("The Idempotency-Key header is required".to_owned()));
        };
        let key = raw.to_str().map_or("", str::trim);
        if key.is_empty() || key.len() > MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::BadRequest(format!(
                "The Idempotency-Key must be 1 to {MAX_LEN} visible ASCII characters"
            )));
        }
        Ok(Self(key.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn keys_follow_one_rule() {
        let ok = TestRequest::default().insert_header((HEADER, " k-1 ")).to_http_request();
        assert_eq!(IdempotencyKey::of(&ok).unwrap().as_str(), "k-1");
        let missing = TestRequest::default().to_http_request();
        assert!(
            matches!(IdempotencyKey::of(&missing), Err(ApiError::BadRequest(m)) if m.contains("required"))
        );
        for bad in ["", "   ", "a b", &"k".repeat(256)] {
            let req = TestRequest::default().insert_header((HEADER, bad)).to_http_request();
            assert!(IdempotencyKey::of(&req).is_err(), "{bad:?}");
        }
    }
}
